import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { LEASE_FUNCTIONS } from '../lease/lease-lua';

/** A handover's first read of its journal, which also installs its lease's copy (see RedisJournalOptions). */
export interface JournalFirstRead {
  hostId: string;
  leaseToken: string;
  leaseTtlMs: number;
}

/**
 * First reads of one rollout's journals in one script run: each installs its lease's copy and
 * returns its journal's elements, as LRANGE gives them.
 */
export async function runJournalFirstReads(redis: RedisClient, keys: FleetKeys, rolloutId: string, reads: readonly JournalFirstRead[]): Promise<string[][]> {
  const args: (string | number)[] = [keys.handoverLeasePrefix(rolloutId), keys.journalPrefix(rolloutId)];
  for (const r of reads) args.push(r.hostId, r.leaseToken, r.leaseTtlMs);
  // KEYS names one key of the rollout's slot (its stats) for routing; see FIRST_READS.
  return (await FIRST_READS.run(redis, [keys.stats(rolloutId)], args)) as string[][];
}

/*
KEYS: 1 a key of the rollout's slot (not touched). ARGV: 1 lease copy prefix, 2 journal prefix, then
3 per read: host id, lease token, expiry ms. A host's keys are its id after the prefixes: keys of the
rollout's hash tag, so of the slot of KEYS[1] (as with the APPEND script's).
Installs each lease copy and returns each journal.
*/
const FIRST_READS = new LuaScript(`${LEASE_FUNCTIONS}
local out = {}
for a = 3, #ARGV, 3 do
  local host = ARGV[a]
  copyLease(ARGV[1] .. host, ARGV[a + 1], ARGV[a + 2])
  out[#out + 1] = redis.call('LRANGE', ARGV[2] .. host, 0, -1)
end
return out
`);
