import type { RedisClient } from './redis-connection';
import type { FleetKeys } from './keys';
import { runJournalWrites, type JournalWrite, type JournalWriteResult } from './journal-writes';

/**
 * Group commit of journal writes: the writes a process issues in one turn of its event loop go out
 * as one script run per rollout. A worker steps a hundred hosts on one connection, and an answer
 * from Redis wakes many of them at once, each writing its journal before its next step; sent one
 * by one, the fixed cost of a script call (client and Redis) was most of a write's. Each write still
 * lands before its own caller goes on, so a host's next step never starts before its record exists.
 */
export class JournalGroupCommit {
  private pending = new Map<string, { write: JournalWrite; settle: (r: JournalWriteResult | Error) => void }[]>();
  private scheduled = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    /** Writes per script run at most, so one run never holds Redis for long (~1 ms at 64). */
    private readonly maxWrites = 64,
  ) {}

  submit(rolloutId: string, write: JournalWrite): Promise<JournalWriteResult> {
    return new Promise((resolve, reject) => {
      const settle = (r: JournalWriteResult | Error) => (r instanceof Error ? reject(r) : resolve(r));
      const queue = this.pending.get(rolloutId);
      if (queue) queue.push({ write, settle });
      else this.pending.set(rolloutId, [{ write, settle }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current turn's callbacks: the writes they issue join this one.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [rolloutId, queue] of pending) {
      for (let i = 0; i < queue.length; i += this.maxWrites) {
        const group = queue.slice(i, i + this.maxWrites);
        runJournalWrites(
          this.redis,
          this.keys,
          rolloutId,
          group.map((q) => q.write),
        ).then(
          (results) => group.forEach((q, j) => q.settle(results[j])),
          (err: unknown) => group.forEach((q) => q.settle(err instanceof Error ? err : new Error(String(err)))),
        );
      }
    }
  }
}
