import { LuaScript } from '@luo-fleet/redis';

/**
 * A host's state in a rollout (pending, queued, a step, an outcome) is kept three ways that move
 * together: the hoststate hash (host -> state), one set of hosts per state (`statePrefix .. state`)
 * and the count of hosts per state. This Lua function is the one place that moves them; every
 * script that moves a host's state composes it.
 *
 * `moveHostStates(hostStates, stateCounts, statePrefix, hosts, stateOf)` moves each host of `hosts`
 * (distinct) from its state before the call to `stateOf[host]`, in one HMGET, one HSET and one
 * SREM, SADD and HINCRBY per state touched: many hosts moving together cost little more than one.
 */
export const MOVE_HOST_STATES_FUNCTION = `
local function moveHostStates(hostStates, stateCounts, statePrefix, hosts, stateOf)
  if #hosts == 0 then return end
  local before = redis.call('HMGET', hostStates, unpack(hosts))
  local counts, gone, came, hset = {}, {}, {}, {}
  for j, host in ipairs(hosts) do
    local old, new = before[j], stateOf[host]
    if old ~= new then
      if old then
        counts[old] = (counts[old] or 0) - 1
        gone[old] = gone[old] or {}
        table.insert(gone[old], host)
      end
      counts[new] = (counts[new] or 0) + 1
      came[new] = came[new] or {}
      table.insert(came[new], host)
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
end
`;

/**
 * Moves hosts to one state. KEYS: 1 hoststate, 2 statecount. ARGV: 1 state set prefix, 2 the
 * state, 3.. host ids.
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
moveHostStates(KEYS[1], KEYS[2], ARGV[1], hosts, stateOf)
return #hosts
`);
