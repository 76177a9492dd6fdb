/**
 * A host's lease in Redis: a key holding its owner's token, with an expiry. The host's own lease
 * (FleetKeys.hostLease) says which handover holds the host; its copy in the rollout
 * (FleetKeys.handoverLease) is what the journal checks before every append, and is dropped with
 * the outcome, so nothing lands after it. These Lua functions are the one place a lease key is
 * taken, copied, checked, renewed, dropped or given back; every script that touches one composes
 * them (LEASE_OPS and RENEW here, the journal's first read and its append).
 */
export const LEASE_FUNCTIONS = `
local function takeLease(key, token, ttlMs)
  return redis.call('SET', key, token, 'PX', ttlMs, 'NX') or redis.call('GET', key) == token
end
local function copyLease(key, token, ttlMs)
  redis.call('SET', key, token, 'PX', ttlMs)
end
local function holdsLease(key, token)
  return redis.call('GET', key) == token
end
local function renewLease(key, token, ttlMs)
  local holder = redis.call('GET', key)
  if holder == token then return redis.call('PEXPIRE', key, ttlMs) end
  if not holder then return 2 end
  return 0
end
local function dropLease(key)
  redis.call('DEL', key)
end
local function giveLease(key, token)
  if redis.call('GET', key) == token then return redis.call('DEL', key) end
  return 0
end
`;
