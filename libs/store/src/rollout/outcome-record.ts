import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { outcomeSummaryOf, type OutcomeSummary } from '@luo-fleet/handover';
import { luaApplies, luaStatusAfter } from './rollout-transitions-lua';

/**
 * Counts a host's outcome in its rollout, once: the one place an outcome is counted, run by the
 * journal's append of an outcome and by RECORD_OUTCOME. k: 1 adm, 2 admitted, 3 done(set),
 * 4 domainInflight, 5 hostDomain, 6 results(hash), 7 plans(hash) (`outcomeRecordKeys`). Returns 1
 * the first time a host's outcome is recorded, 0 after (a re-run job reports again), -1 when there
 * is no such rollout (a handover enqueued outside one).
 */
export const RECORD_OUTCOME_FUNCTION = `
local function recordOutcome(k, host, outcome, resultJson)
  local adm = k[1]
  if redis.call('EXISTS', adm) == 0 then return -1 end
  if redis.call('SADD', k[3], host) == 0 then return 0 end
  redis.call('HSET', k[6], host, resultJson)
  redis.call('HDEL', k[7], host)
  if redis.call('ZREM', k[2], host) == 1 then
    redis.call('HINCRBY', adm, 'inflight', -1)
    local domain = redis.call('HGET', k[5], host)
    if domain then redis.call('HINCRBY', k[4], domain, -1) end
  end
  redis.call('HINCRBY', adm, 'finished', 1)
  if outcome == 'failed' or outcome == 'rolled_back' then
    local failures = redis.call('HINCRBY', adm, 'failures', 1)
    local status = redis.call('HGET', adm, 'status')
    if failures > tonumber(redis.call('HGET', adm, 'maxFailures')) and ${luaApplies('halt')} then
      redis.call('HSET', adm, 'status', ${luaStatusAfter('halt')}, 'statusReason',
        'failure budget exceeded: ' .. failures .. ' failed or rolled back, budget ' .. redis.call('HGET', adm, 'maxFailures'))
    end
  end
  return 1
end
`;

/** The keys RECORD_OUTCOME_FUNCTION's `k` names, in its order. */
export function outcomeRecordKeys(keys: FleetKeys, rolloutId: string): string[] {
  const id = rolloutId;
  return [keys.admission(id), keys.admitted(id), keys.done(id), keys.domainInflight(id), keys.hostDomains(id), keys.results(id), keys.plans(id)];
}

/** The outcome as a rollout's results hash keeps it. */
export function outcomeResultJson(outcome: OutcomeSummary): string {
  return JSON.stringify(outcomeSummaryOf(outcome));
}

/** Counts an outcome written without the journal's append counting it; RECORD_OUTCOME_FUNCTION's 1, 0 or -1. */
export async function recordOutcome(redis: RedisClient, keys: FleetKeys, rolloutId: string, hostId: string, outcome: OutcomeSummary): Promise<number> {
  return (await RECORD_OUTCOME.run(redis, outcomeRecordKeys(keys, rolloutId), [hostId, outcome.outcome, outcomeResultJson(outcome)])) as number;
}

/** KEYS: as RECORD_OUTCOME_FUNCTION's k. ARGV: 1 host, 2 outcome, 3 result JSON. */
const RECORD_OUTCOME = new LuaScript(`${RECORD_OUTCOME_FUNCTION}
return recordOutcome(KEYS, ARGV[1], ARGV[2], ARGV[3])
`);
