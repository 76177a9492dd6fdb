import { HANDOVER_PHASES, HOST_OUTCOMES, ROLLBACK_STEPS } from '@luo-fleet/handover';
import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { WAITING_STATES } from '@luo-fleet/rollout';
import { FleetCapacity } from '../capacity/fleet-capacity';

/**
 * What a finished rollout keeps in Redis. During the rollout every journal entry is stored three
 * times over (the host's journal list, the events stream, the counters), and the plans hash holds a
 * full topology per host; once the rollout is over, only the outcome and the counters still matter.
 *
 * After `compactFinishedRollout`:
 * - kept with no expiry: the stats hash (fleet counters the metrics app sums: they must survive),
 *   the rollout record, and the admission hash (status, finishedAt, counts: a few hundred bytes that
 *   `GET /v1/rollouts/:id` and `RolloutStore.exists` need, so the rollout stays visible);
 * - kept for `ttlSeconds` (default 30 days), then gone: each host's journal, cut down to its outcome
 *   entry (whole for failed and rolled-back hosts: the post-mortem needs every step); the events stream, trimmed to its newest `eventsKeep` entries (default 10,000); host
 *   states, state counts, results, the done set, failure domains, the (empty) pending list and
 *   admitted set, and the per-state sets (so `GET /v1/rollouts/:id/hosts?state=failed` keeps
 *   answering until the expiry);
 * - deleted now: the plans hash (job payloads, only needed to enqueue).
 * A journal without an outcome entry is not cut (it is evidence of something unfinished), but it
 * expires like the rest.
 */
export interface RetentionOptions {
  eventsKeep?: number;
  ttlSeconds?: number;
  /** Hosts handled per script call (each call blocks Redis for its duration). */
  chunk?: number;
}

export interface CompactionResult {
  compacted: boolean;
  hosts: number;
  /** Journals cut down to their outcome entry. */
  journalsTrimmed: number;
}

export const DEFAULT_EVENTS_KEEP = 10_000;
export const DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600;

/** Every state a host of a rollout can be in: the per-state sets that may exist. */
const HOST_STATES = [...HOST_OUTCOMES, ...WAITING_STATES, ...HANDOVER_PHASES, ...ROLLBACK_STEPS];

/**
 * Shrinks a finished rollout to what is worth keeping (see above). Refuses (compacted: false) while
 * the rollout has no `finishedAt`. Safe to run again, and safe while late writers still append
 * (a re-run job's append after the cut is just one more entry).
 */
export async function compactFinishedRollout(redis: RedisClient, keys: FleetKeys, rolloutId: string, opts: RetentionOptions = {}): Promise<CompactionResult> {
  const eventsKeep = opts.eventsKeep ?? DEFAULT_EVENTS_KEEP;
  const ttl = opts.ttlSeconds ?? DEFAULT_RETENTION_SECONDS;
  const chunk = opts.chunk ?? 500;
  if ((await redis.hget(keys.admission(rolloutId), 'finishedAt')) === null) return { compacted: false, hosts: 0, journalsTrimmed: 0 };

  let hosts = 0;
  let journalsTrimmed = 0;
  const fleet = new FleetCapacity(redis, keys);
  const journalPrefix = keys.journalPrefix(rolloutId);
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(keys.hostStates(rolloutId), cursor, 'COUNT', chunk);
    cursor = next;
    const ids = flat.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) continue;
    hosts += ids.length;
    // Every host of a finished rollout has its outcome: one whose worker died before giving back its
    // claim may take evacuated VMs now, unless it failed (it waits for a person).
    await fleet.unclaim(rolloutId, ids.filter((_, i) => flat[2 * i + 1] !== 'failed'));
    journalsTrimmed += Number(await TRIM_JOURNALS.run(redis, [keys.hostStates(rolloutId)], [journalPrefix, ttl, ...ids]));
  } while (cursor !== '0');

  const p = redis.pipeline();
  p.del(keys.plans(rolloutId));
  p.xtrim(keys.events(rolloutId), 'MAXLEN', eventsKeep);
  for (const key of [
    keys.events(rolloutId),
    keys.hostStates(rolloutId),
    keys.stateCounts(rolloutId),
    keys.results(rolloutId),
    keys.done(rolloutId),
    keys.hostDomains(rolloutId),
    keys.domainInflight(rolloutId),
    keys.pending(rolloutId),
    keys.admitted(rolloutId),
    keys.capacity(rolloutId),
    ...HOST_STATES.map((s) => keys.hostStateSet(rolloutId, s)),
    keys.hostStrategies(rolloutId),
    keys.strategyStateCounts(rolloutId),
  ]) {
    p.expire(key, ttl);
  }
  const results = await p.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
  return { compacted: true, hosts, journalsTrimmed };
}

/*
KEYS: 1 hoststate (only for the slot: journals carry the same hash tag)
ARGV: 1 journal key prefix, 2 ttl seconds, 3.. host ids
Cuts each journal of an updated, skipped or cancelled host to its outcome entry and sets its expiry; returns how many were cut.
A journal element is one write, its entries one JSON per line; an outcome is always its write's last entry.
*/
const TRIM_JOURNALS = new LuaScript(`
local prefix = ARGV[1]
local ttl = ARGV[2]
local trimmed = 0
for i = 3, #ARGV do
  local key = prefix .. ARGV[i]
  local n = redis.call('LLEN', key)
  if n > 0 then
    local keep, keptLine, keptRaw = nil, nil, nil
    for j = n - 1, 0, -1 do
      local raw = redis.call('LINDEX', key, j)
      local line = string.match(raw, '[^\\n]+$') or raw
      local ok, e = pcall(cjson.decode, line)
      if ok and type(e) == 'table' and e['type'] == 'outcome' then
        -- A failed or rolled-back host keeps its whole journal: it is what a person reads next.
        if e['outcome'] ~= 'failed' and e['outcome'] ~= 'rolled_back' then keep, keptLine, keptRaw = j, line, raw end
        break
      end
    end
    if keep ~= nil and (n > 1 or keptRaw ~= keptLine) then
      redis.call('LTRIM', key, keep, keep)
      if keptRaw ~= keptLine then redis.call('LSET', key, 0, keptLine) end
      trimmed = trimmed + 1
    end
    redis.call('EXPIRE', key, ttl)
  end
end
return trimmed
`);
