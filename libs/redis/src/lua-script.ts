import { createHash } from 'node:crypto';
import { Command, type Cluster, type Redis } from 'ioredis';

/**
 * A Lua script run by its SHA (EVALSHA): the text crosses the wire only when Redis lacks it (first
 * use, a restart, SCRIPT FLUSH, a new cluster node), not on every call. Scripts on the hot path of
 * a handover run several times per host, and their text is most of the bytes of each call.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly text: string) {
    this.sha = createHash('sha1').update(text).digest('hex');
  }

  async run(redis: Redis | Cluster, keys: readonly string[], args: readonly (string | number)[] = []): Promise<unknown> {
    try {
      return await redis.sendCommand(this.evalsha(keys, args));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.text, keys.length, ...keys, ...args);
    }
  }

  /**
   * Several runs in one pipeline (one round trip), answered in order; rejects when any run fails.
   * On a cluster, every key of every run must be in one slot.
   */
  async runMany(redis: Redis | Cluster, runs: readonly { keys: readonly string[]; args: readonly (string | number)[] }[]): Promise<unknown[]> {
    const send = async (only: readonly number[], script: 'evalsha' | 'eval') => {
      const pipeline = redis.pipeline();
      for (const i of only) pipeline[script](script === 'eval' ? this.text : this.sha, runs[i].keys.length, ...runs[i].keys, ...runs[i].args);
      return (await pipeline.exec()) ?? [];
    };
    const all = runs.map((_, i) => i);
    const answers = await send(all, 'evalsha');
    const missing = all.filter((i) => answers[i][0] instanceof Error && answers[i][0].message.startsWith('NOSCRIPT'));
    if (missing.length > 0) (await send(missing, 'eval')).forEach((answer, j) => (answers[missing[j]] = answer));
    return answers.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  }

  /**
   * The EVALSHA command as `redis.evalsha(...)` builds it (answers as text), with its arguments
   * set after construction: ioredis's constructor copies them through Array.prototype.flat, at a
   * cost per argument, and a batched run carries hundreds that are flat already.
   */
  private evalsha(keys: readonly string[], args: readonly (string | number)[]): Command {
    const command = new Command('evalsha', [], { replyEncoding: 'utf8' });
    const all: string[] = [this.sha, String(keys.length), ...keys];
    for (const a of args) all.push(typeof a === 'string' ? a : String(a));
    command.args = all;
    return command;
  }
}

/**
 * The TurnBatch group of a script call on `key`: every key may share a run on a single Redis; on a
 * cluster a script's keys must share a slot, so each key runs on its own.
 */
export function scriptGroupOf(redis: Redis | Cluster, key: string): string {
  return redis.isCluster ? key : '';
}
