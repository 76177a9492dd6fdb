import { LuaScript } from '@luo-fleet/redis';
import { MOVE_HOST_STATES_FUNCTION } from './host-state-move';
import { luaActionTarget, luaApplies, luaStatusAfter } from './rollout-transitions-lua';

/**
 * Lua run by Redis for a rollout's admission bookkeeping. Every key of one rollout shares its hash
 * tag, so each script touches one slot (Redis Cluster); per-state sets are named from ARGV with the
 * same tag for the same reason.
 *
 * The `adm` hash: status, cutoffAt, maxConcurrent, maxFailures, domainLimit, batches (JSON),
 * batch (0-based), batchAdmitted, inflight, failures, finished, requireApproval.
 */

/**
 * KEYS: 1 adm, 2 pending, 3 admitted(zset), 4 domainInflight, 5 hostDomain, 6 hostStates, 7 stateCounts, 8 plans, 9-10 hostStrategyKeys
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
moveHostStates(KEYS[6], KEYS[7], ARGV[3], queued, stateOf, {KEYS[9], KEYS[10]})
return out
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
if ${luaApplies('start')} and now >= tonumber(redis.call('HGET', adm, 'startAt')) then
  status = ${luaStatusAfter('start')}
  redis.call('HSET', adm, 'status', status)
end
if ${luaApplies('expire')} and pending > 0 and now >= tonumber(redis.call('HGET', adm, 'cutoffAt')) then
  status = ${luaStatusAfter('expire')}
  redis.call('HSET', adm, 'status', status, 'statusReason', 'cutoff passed with ' .. pending .. ' hosts not started')
end
if (${luaApplies('await_approval')} or ${luaApplies('complete')}) and inflight == 0 then
  local batches = cjson.decode(redis.call('HGET', adm, 'batches'))
  local batch = tonumber(redis.call('HGET', adm, 'batch'))
  if batch < #batches and tonumber(redis.call('HGET', adm, 'batchAdmitted')) >= batches[batch + 1] then
    batch = batch + 1
    redis.call('HSET', adm, 'batch', batch, 'batchAdmitted', 0)
    if batch < #batches and redis.call('HGET', adm, 'requireApproval') == '1' and ${luaApplies('await_approval')} then
      status = ${luaStatusAfter('await_approval')}
      redis.call('HSET', adm, 'status', status, 'statusReason', 'batch ' .. batch .. ' done; batch ' .. (batch + 1) .. ' waits for approval')
    end
  end
  if batch >= #batches and pending == 0 and ${luaApplies('complete')} then
    status = ${luaStatusAfter('complete')}
    redis.call('HSET', adm, 'status', status, 'finishedAt', now)
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
 * Returns {ok(1|0), status}: 0 when the action does not apply to the current status. A pause
 * keeps the status it paused (`pausedFrom`), and resuming goes back to it.
 */
export const CONTROL = new LuaScript(`
local adm = KEYS[1]
local status = redis.call('HGET', adm, 'status')
local action = ARGV[1]
${luaActionTarget()}
if not to then return {0, status or ''} end
if to == 'pausedFrom' then to = redis.call('HGET', adm, 'pausedFrom') or 'running' end
if to == 'paused' then redis.call('HSET', adm, 'pausedFrom', status) end
redis.call('HSET', adm, 'status', to, 'statusReason', action .. ' by operator')
return {1, to}
`);
