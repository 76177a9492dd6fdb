import { TurnBatch } from '@luo-fleet/handover';
import type { RedisClient } from './redis-connection';
import type { FleetKeys } from './keys';
import { runJournalWrites, type JournalWrite, type JournalWriteResult } from './journal-writes';

/**
 * Group commit of journal writes: the writes a process issues in one turn of its event loop go out
 * as one script run per rollout (its keys share one slot). Each write still lands, or is fenced,
 * on its own, and before its own caller goes on: a host's next step never starts before its
 * record exists.
 */
export class JournalGroupCommit {
  private readonly batch: TurnBatch<JournalWrite, JournalWriteResult>;

  constructor(redis: RedisClient, keys: FleetKeys, maxWrites = 64) {
    this.batch = new TurnBatch((rolloutId, writes) => runJournalWrites(redis, keys, rolloutId, writes), maxWrites);
  }

  submit(rolloutId: string, write: JournalWrite): Promise<JournalWriteResult> {
    return this.batch.submit(rolloutId, write);
  }
}
