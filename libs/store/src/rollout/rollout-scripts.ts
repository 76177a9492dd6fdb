import { LuaScript } from '@luo-fleet/redis';
import { MOVE_HOST_STATES_FUNCTION } from './host-state-move';

/**
 * Lua run by Redis for a rollout's admission bookkeeping. Every key of one rollout shares its hash
 * tag, so each script touches one slot (Redis Cluster); per-state sets are named from ARGV with the
 * same tag for the same reason.
 *
 * The `adm` hash: status, cutoffAt, maxConcurrent, maxFailures, domainLimit, batches (JSON),
 * batch (0-based), batchAdmitted, inflight, failures, finished, requireApproval.
 */

/**
 * KEYS: 1 adm, 2 pending, 3 admitted(zset), 4 domainInflight, 5 hostDomain, 6 hostStates, 7 stateCounts, 8 plans
 * ARGV: 1 now, 2 maxScan, 3 statePrefix
 * Returns the admitted hosts as id, plan JSON ('' if none), id, plan... Atomic: however many workers call it at once, in-flight hosts never
 * exceed maxConcurrent, the batch, or the failure-domain limit.
 */
export const ADMIT = new LuaScript(`${MOVE_HOST_STATES_FUNCTION}
local adm = KEYS[1]
if redis.call('HGET', adm, 'status') ~= 'running' then return {} end
local now = tonumber(ARGV[1])
if now >= tonumber(redis.call('HGET', adm, 'cutoffAt')) then return {} end
local batches = cjson.decode(redis.call('HGET', adm, 'batches'))
local batch = tonumber(redis.call('HGET', adm, 'batch'))
if batch >= #batches then return {} end
local inflight = tonumber(redis.call('HGET', adm, 'inflight'))
local cap = math.min(tonumber(redis.call('HGET', adm, 'maxConcurrent')) - inflight,
                     batches[batch + 1] - tonumber(redis.call('HGET', adm, 'batchAdmitted')))
if cap <= 0 then return {} end
local domainLimit = tonumber(redis.call('HGET', adm, 'domainLimit') or '0')
local candidates = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
local out = {}
local queued, stateOf = {}, {}
for _, host in ipairs(candidates) do
  if cap <= 0 then break end
  local domain = false
  local fits = true
  if domainLimit > 0 then
    domain = redis.call('HGET', KEYS[5], host) or '-'
    if tonumber(redis.call('HGET', KEYS[4], domain) or '0') >= domainLimit then fits = false end
  end
  if fits then
    redis.call('LREM', KEYS[2], 1, host)
    redis.call('ZADD', KEYS[3], now, host)
    redis.call('HINCRBY', adm, 'inflight', 1)
    redis.call('HINCRBY', adm, 'batchAdmitted', 1)
    if domain then redis.call('HINCRBY', KEYS[4], domain, 1) end
    if stateOf[host] == nil then queued[#queued + 1] = host end
    stateOf[host] = 'queued'
    out[#out + 1] = host
    out[#out + 1] = redis.call('HGET', KEYS[8], host) or ''
    cap = cap - 1
  end
end
moveHostStates(KEYS[6], KEYS[7], ARGV[3], queued, stateOf)
return out
`);

/**
 * Counts a host's outcome in its rollout, once. k: 1 adm, 2 admitted, 3 done(set), 4 domainInflight,
 * 5 hostDomain, 6 results(hash), 7 plans(hash). Returns 1 the first time a host's outcome is
 * recorded, 0 after (a re-run job reports again), -1 when there is no such rollout (a handover
 * enqueued outside one). Shared by RECORD_OUTCOME and the journal's append of an outcome.
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
    if failures > tonumber(redis.call('HGET', adm, 'maxFailures'))
       and (status == 'running' or status == 'paused' or status == 'awaiting_approval') then
      redis.call('HSET', adm, 'status', 'halted', 'statusReason',
        'failure budget exceeded: ' .. failures .. ' failed or rolled back, budget ' .. redis.call('HGET', adm, 'maxFailures'))
    end
  end
  return 1
end
`;

/**
 * KEYS: as RECORD_OUTCOME_FUNCTION's k.   ARGV: 1 host, 2 outcome, 3 resultJson
 * For outcomes written without a journal script of ours (reconciliation of an older journal).
 */
export const RECORD_OUTCOME = new LuaScript(`${RECORD_OUTCOME_FUNCTION}
return recordOutcome(KEYS, ARGV[1], ARGV[2], ARGV[3])
`);

/**
 * Moves the rollout along when nothing is in flight: the next canary batch (waiting for approval if
 * required), completion, or the end of a halt, abort or cutoff once in-flight hosts drained.
 * KEYS: 1 adm, 2 pending   ARGV: 1 now
 * Returns the status after the call, whether the rollout just finished, and whether it is finished.
 */
export const ADVANCE = new LuaScript(`
local adm = KEYS[1]
local now = tonumber(ARGV[1])
local status = redis.call('HGET', adm, 'status')
local inflight = tonumber(redis.call('HGET', adm, 'inflight'))
local pending = redis.call('LLEN', KEYS[2])
local finishedNow = 0
if status == 'scheduled' and now >= tonumber(redis.call('HGET', adm, 'startAt')) then
  redis.call('HSET', adm, 'status', 'running')
  status = 'running'
end
if (status == 'running' or status == 'paused') and pending > 0 and now >= tonumber(redis.call('HGET', adm, 'cutoffAt')) then
  redis.call('HSET', adm, 'status', 'expired', 'statusReason', 'cutoff passed with ' .. pending .. ' hosts not started')
  status = 'expired'
end
if status == 'running' and inflight == 0 then
  local batches = cjson.decode(redis.call('HGET', adm, 'batches'))
  local batch = tonumber(redis.call('HGET', adm, 'batch'))
  if batch < #batches and tonumber(redis.call('HGET', adm, 'batchAdmitted')) >= batches[batch + 1] then
    batch = batch + 1
    redis.call('HSET', adm, 'batch', batch, 'batchAdmitted', 0)
    if batch < #batches and redis.call('HGET', adm, 'requireApproval') == '1' then
      redis.call('HSET', adm, 'status', 'awaiting_approval', 'statusReason', 'batch ' .. batch .. ' done; batch ' .. (batch + 1) .. ' waits for approval')
      status = 'awaiting_approval'
    end
  end
  if batch >= #batches and pending == 0 then
    redis.call('HSET', adm, 'status', 'completed', 'finishedAt', now)
    status = 'completed'
    finishedNow = 1
  end
end
if (status == 'halted' or status == 'aborted' or status == 'expired') and inflight == 0 and pending == 0
   and not redis.call('HGET', adm, 'finishedAt') then
  redis.call('HSET', adm, 'finishedAt', now)
  finishedNow = 1
end
local finished = 0
if redis.call('HGET', adm, 'finishedAt') then finished = 1 end
return {status, finishedNow, finished}
`);

/**
 * Operator control. KEYS: 1 adm  ARGV: 1 action
 * Returns {ok(1|0), status}: 0 when the action does not apply to the current status.
 */
export const CONTROL = new LuaScript(`
local adm = KEYS[1]
local status = redis.call('HGET', adm, 'status')
local action = ARGV[1]
local to = false
if action == 'pause' and (status == 'running' or status == 'scheduled' or status == 'awaiting_approval') then to = 'paused'
elseif action == 'resume' and status == 'paused' then to = 'running'
elseif action == 'approve' and status == 'awaiting_approval' then to = 'running'
elseif action == 'abort' and (status == 'running' or status == 'paused' or status == 'scheduled' or status == 'awaiting_approval') then to = 'aborted'
end
if not to then return {0, status or ''} end
if to == 'running' and status == 'paused' and redis.call('HGET', adm, 'pausedFrom') == 'awaiting_approval' then
  to = 'awaiting_approval'
end
if to == 'paused' then redis.call('HSET', adm, 'pausedFrom', status) end
if to == 'running' and status == 'paused' and redis.call('HGET', adm, 'pausedFrom') == 'scheduled' then
  to = 'scheduled'
end
redis.call('HSET', adm, 'status', to, 'statusReason', action .. ' by operator')
return {1, to}
`);
