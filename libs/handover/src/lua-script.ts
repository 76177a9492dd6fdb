import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A Lua script run by its SHA (EVALSHA): the text crosses the wire only when Redis lacks it (first
 * use, a restart, SCRIPT FLUSH, a new cluster node), not on every call. Scripts on the hot path of
 * a handover run several times per host, and their text is most of the bytes of each call.
 * Here, below libs/queue, so that the simulated host store in this lib uses it too.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly text: string) {
    this.sha = createHash('sha1').update(text).digest('hex');
  }

  async run(redis: Redis | Cluster, keys: readonly string[], args: readonly (string | number)[] = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.text, keys.length, ...keys, ...args);
    }
  }
}

/**
 * The TurnBatch group of a script call on `key`: every key may share a run on a single Redis; on a
 * cluster a script's keys must share a slot, so each key runs on its own.
 */
export function scriptGroupOf(redis: Redis | Cluster, key: string): string {
  return redis.isCluster ? key : '';
}
