import { LuaScript, TurnBatch } from '@luo-fleet/handover';
import type { RedisClient } from './redis-connection';
import type { FleetKeys } from './keys';
import { runJournalWrites, type JournalWrite, type JournalWriteResult } from './journal-writes';

/** A handover's first read of its journal, which also installs its lease's copy (see RedisJournalOptions). */
export interface JournalFirstRead {
  hostId: string;
  leaseToken: string;
  leaseTtlMs: number;
}

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
    this.reads = new TurnBatch(async (rolloutId, reads) => {
      const args: (string | number)[] = [keys.handoverLease(rolloutId, ''), keys.journal(rolloutId, '')];
      for (const r of reads) args.push(r.hostId, r.leaseToken, r.leaseTtlMs);
      // KEYS names one key of the rollout's slot (its stats) for routing; see FIRST_READS.
      return (await FIRST_READS.run(redis, [keys.stats(rolloutId)], args)) as string[][];
    }, maxPerRun);
  }

  submit(rolloutId: string, write: JournalWrite): Promise<JournalWriteResult> {
    return this.batch.submit(rolloutId, write);
  }

  /** Installs the lease's copy and reads the journal: its elements, as LRANGE gives them. */
  firstRead(rolloutId: string, read: JournalFirstRead): Promise<string[]> {
    return this.reads.submit(rolloutId, read);
  }
}

/*
KEYS: 1 a key of the rollout's slot (not touched). ARGV: 1 lease copy prefix, 2 journal prefix, then
3 per read: host id, lease token, expiry ms. A host's keys are its id after the prefixes: keys of the
rollout's hash tag, so of the slot of KEYS[1] (as with the APPEND script's).
Installs each lease copy and returns each journal.
*/
const FIRST_READS = new LuaScript(`
local out = {}
for a = 3, #ARGV, 3 do
  local host = ARGV[a]
  redis.call('SET', ARGV[1] .. host, ARGV[a + 1], 'PX', ARGV[a + 2])
  out[#out + 1] = redis.call('LRANGE', ARGV[2] .. host, 0, -1)
end
return out
`);
