import { LuaScript, type FleetKeys } from '@luo-fleet/redis';

/**
 * A host's state in a rollout (pending, queued, a step, an outcome) is kept four ways that move
 * together: the hoststate hash (host -> state), one set of hosts per state (`statePrefix .. state`),
 * the count of hosts per state and, for a rollout that allows strategies, the count of hosts per
 * strategy and state (`<strategy>:<state>`, the host's strategy from the hoststrategy hash). This
 * Lua function is the one place that moves them; every script that moves a host's state composes it.
 * So a status read counts hosts by strategy from one small hash instead of intersecting sets.
 *
 * `moveHostStates(hostStates, stateCounts, statePrefix, hosts, stateOf, strategyKeys)` moves each
 * host of `hosts` (distinct) from its state before the call to `stateOf[host]`, in one HMGET, one
 * HSET and one SREM, SADD and HINCRBY per state touched: many hosts moving together cost little
 * more than one. `strategyKeys` is `{hostStrategies, strategyStateCounts}` (KEYS of the caller).
 */
export const MOVE_HOST_STATES_FUNCTION = `
local function moveHostStates(hostStates, stateCounts, statePrefix, hosts, stateOf, strategyKeys)
  if #hosts == 0 then return end
  local before = redis.call('HMGET', hostStates, unpack(hosts))
  local strategies = redis.call('HMGET', strategyKeys[1], unpack(hosts))
  local counts, byStrategy, gone, came, hset = {}, {}, {}, {}, {}
  for j, host in ipairs(hosts) do
    local old, new, strategy = before[j], stateOf[host], strategies[j]
    if old ~= new then
      if old then
        counts[old] = (counts[old] or 0) - 1
        gone[old] = gone[old] or {}
        table.insert(gone[old], host)
        if strategy then byStrategy[strategy .. ':' .. old] = (byStrategy[strategy .. ':' .. old] or 0) - 1 end
      end
      counts[new] = (counts[new] or 0) + 1
      came[new] = came[new] or {}
      table.insert(came[new], host)
      if strategy then byStrategy[strategy .. ':' .. new] = (byStrategy[strategy .. ':' .. new] or 0) + 1 end
      hset[#hset + 1] = host
      hset[#hset + 1] = new
    end
  end
  for state, moved in pairs(gone) do redis.call('SREM', statePrefix .. state, unpack(moved)) end
  for state, moved in pairs(came) do redis.call('SADD', statePrefix .. state, unpack(moved)) end
  if #hset > 0 then redis.call('HSET', hostStates, unpack(hset)) end
  for state, by in pairs(counts) do
    if by ~= 0 then redis.call('HINCRBY', stateCounts, state, by) end
  end
  for field, by in pairs(byStrategy) do
    if by ~= 0 then redis.call('HINCRBY', strategyKeys[2], field, by) end
  end
end
`;

/** The keys moveHostStates needs beside the state hash and counts, in its `strategyKeys` order. */
export function hostStrategyKeys(keys: FleetKeys, rolloutId: string): [string, string] {
  return [keys.hostStrategies(rolloutId), keys.strategyStateCounts(rolloutId)];
}

/**
 * Moves hosts to one state. KEYS: 1 hoststate, 2 statecount, 3-4 hostStrategyKeys. ARGV: 1 state
 * set prefix, 2 the state, 3.. host ids.
 */
export const MOVE_HOSTS_TO_STATE = new LuaScript(`${MOVE_HOST_STATES_FUNCTION}
local state = ARGV[2]
local hosts, stateOf = {}, {}
for i = 3, #ARGV do
  local host = ARGV[i]
  if stateOf[host] == nil then
    hosts[#hosts + 1] = host
    stateOf[host] = state
  end
end
moveHostStates(KEYS[1], KEYS[2], ARGV[1], hosts, stateOf, {KEYS[3], KEYS[4]})
return #hosts
`);
