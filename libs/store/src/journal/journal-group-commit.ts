import { TurnBatch } from '@luo-fleet/redis';
import type { RedisClient } from '@luo-fleet/redis';
import type { FleetKeys } from '@luo-fleet/redis';
import { runJournalWrites, type JournalWrite, type JournalWriteResult } from './journal-writes';
import { runJournalFirstReads, type JournalFirstRead } from './journal-first-reads';

/**
 * Group commit of journal writes: the writes a process issues in one turn of its event loop go out
 * as one script run per rollout (its keys share one slot). Each write still lands, or is fenced,
 * on its own, and before its own caller goes on: a host's next step never starts before its
 * record exists. Handovers starting in the same turn read their journals together the same way.
 */
export class JournalGroupCommit {
  private readonly batch: TurnBatch<JournalWrite, JournalWriteResult>;
  private readonly reads: TurnBatch<JournalFirstRead, string[]>;

  constructor(redis: RedisClient, keys: FleetKeys, maxPerRun = 64) {
    this.batch = new TurnBatch((rolloutId, writes) => runJournalWrites(redis, keys, rolloutId, writes), maxPerRun);
    this.reads = new TurnBatch((rolloutId, reads) => runJournalFirstReads(redis, keys, rolloutId, reads), maxPerRun);
  }

  submit(rolloutId: string, write: JournalWrite): Promise<JournalWriteResult> {
    return this.batch.submit(rolloutId, write);
  }

  /** Installs the lease's copy and reads the journal: its elements, as LRANGE gives them. */
  firstRead(rolloutId: string, read: JournalFirstRead): Promise<string[]> {
    return this.reads.submit(rolloutId, read);
  }
}

