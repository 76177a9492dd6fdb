import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import type { OutcomeEntry, VmMigration } from '@luo-fleet/handover';
import type { EvacuatedVm, HostCapacity, TargetHost, VmSize } from '@luo-fleet/rollout';

/** A host of a rollout as evacuations see it, recorded at creation: room it has, VMs it sends away. */
export interface CapacityRecord {
  /** Absent: its capacity is unknown, and it takes no VMs. */
  capacity?: HostCapacity;
  /** What runs there: its own VMs, then every reservation made on it. */
  used: { vms: number } & VmSize;
  domain: string;
  /** A host the plan evacuates: its VMs and their sizes. */
  evacuees?: EvacuatedVm[];
  /** Its evacuees left: their room was given back (EMPTIED). */
  emptied?: boolean;
}

/** Host states whose hosts may take VMs: they ended, healthy (on the target kernel or their own). */
const TARGET_STATES = ['updated', 'rolled_back', 'skipped'];

/*
 * Reserves room for one evacuation, atomically against every other: each target must still be
 * in a state of TARGET_STATES (never a host in flight or about to be) and keep within its capacity
 * with the new VMs added; then the room is taken and the migrations kept under the source. All or
 * nothing. Resent (the source has migrations) it answers them and changes nothing.
 * KEYS: 1 capacity, 2 migrations, 3 hostStates.
 * ARGV: 1 source, 2 migrations JSON, then per VM: target, vCPUs, memory MiB.
 * Returns the source's migrations JSON, or '' when a target is busy or full.
 */
const RESERVE = new LuaScript(`
local have = redis.call('HGET', KEYS[2], ARGV[1])
if have then return have end
local allowed = {${TARGET_STATES.map((s) => `['${s}'] = true`).join(', ')}}
local add, order = {}, {}
for i = 3, #ARGV, 3 do
  local t = ARGV[i]
  if not allowed[redis.call('HGET', KEYS[3], t) or ''] then return '' end
  if not add[t] then add[t] = {0, 0, 0}; order[#order + 1] = t end
  local a = add[t]
  a[1] = a[1] + 1; a[2] = a[2] + tonumber(ARGV[i + 1]); a[3] = a[3] + tonumber(ARGV[i + 2])
end
local recs = {}
for _, t in ipairs(order) do
  local raw = redis.call('HGET', KEYS[1], t)
  if not raw then return '' end
  local r = cjson.decode(raw)
  if r.capacity == nil then return '' end
  local a, c, u = add[t], r.capacity, r.used
  u.vms = u.vms + a[1]; u.vcpus = u.vcpus + a[2]; u.memoryMiB = u.memoryMiB + a[3]
  if c.slots ~= nil then
    if u.vms > c.slots then return '' end
  elseif u.vcpus > c.vcpus or u.memoryMiB > c.memoryMiB then return '' end
  recs[t] = r
end
for _, t in ipairs(order) do redis.call('HSET', KEYS[1], t, cjson.encode(recs[t])) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ARGV[2]
`);

/*
 * Settles the reservations of an evacuation that ended: each VM that moved (ARGV) now runs on its
 * target, so its room there stays taken and its room on the source is free; each VM that did not
 * move gives its target's room back. Sizes are the source's evacuees', as RESERVE counted them. A
 * reservation made on the source in between stays. The source's migrations are then dropped, so a
 * second call does nothing.
 * KEYS: 1 capacity, 2 migrations. ARGV: source host, then the ids of the VMs that moved.
 * Returns 1 settled, 0 none held.
 */
const SETTLE = new LuaScript(`
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
local moved = {}
for i = 2, #ARGV do moved[ARGV[i]] = true end
local recs = {}
local function rec(host)
  if recs[host] == nil then
    local r = redis.call('HGET', KEYS[1], host)
    recs[host] = r and cjson.decode(r) or false
  end
  return recs[host]
end
local sizes = {}
local src = rec(ARGV[1])
if src and type(src.evacuees) == 'table' then for _, vm in ipairs(src.evacuees) do sizes[vm.id] = vm end end
local left = 0
for _, m in ipairs(cjson.decode(raw)) do
  local size = sizes[m.vmId]
  local r = rec(moved[m.vmId] and ARGV[1] or m.targetHostId)
  if not moved[m.vmId] then left = left + 1 end
  if r then
    r.used.vms = r.used.vms - 1
    r.used.vcpus = r.used.vcpus - (size and size.vcpus or 1)
    r.used.memoryMiB = r.used.memoryMiB - (size and size.memoryMiB or 0)
  end
end
if src and left == 0 then src.emptied = true end
for host, r in pairs(recs) do
  if r then redis.call('HSET', KEYS[1], host, cjson.encode(r)) end
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`);

/**
 * The room evacuations may use in one rollout, in Redis under the rollout's hash tag: recorded at
 * creation for every host with a known capacity, taken by reservations (RESERVE, atomic, so two
 * hosts draining at once never overbook a target), and settled when the evacuation ends: a VM
 * that moved stays as load on its target and leaves its source's, one that did not gives its
 * target's room back (settle).
 */
export class EvacuationCapacity {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  async record(rolloutId: string, hosts: ReadonlyMap<string, CapacityRecord>): Promise<void> {
    if (hosts.size === 0) return;
    await this.redis.hset(this.keys.capacity(rolloutId), Object.fromEntries([...hosts].map(([id, r]) => [id, JSON.stringify(r)])));
  }

  /** Every host that might take VMs, as chooseEvacuationTargets wants them, and which hosts are busy now. */
  async targets(rolloutId: string): Promise<{ hosts: TargetHost[]; busy: Set<string> }> {
    const raw = await this.redis.hgetall(this.keys.capacity(rolloutId));
    const ids = Object.keys(raw);
    const states = ids.length === 0 ? [] : await this.redis.hmget(this.keys.hostStates(rolloutId), ...ids);
    const hosts: TargetHost[] = [];
    const busy = new Set<string>();
    ids.forEach((hostId, i) => {
      const r = JSON.parse(raw[hostId]) as CapacityRecord;
      if (r.capacity === undefined) return;
      const state = states[i] ?? '';
      if (!TARGET_STATES.includes(state)) busy.add(hostId);
      hosts.push({ hostId, capacity: r.capacity, load: r.used, onTargetKernel: state === 'updated', domain: r.domain });
    });
    return { hosts, busy };
  }

  /** The failure domain and VMs of each host the plan evacuates. */
  async evacuees(rolloutId: string, hostIds: readonly string[]): Promise<Map<string, { domain: string; vms: EvacuatedVm[] }>> {
    const out = new Map<string, { domain: string; vms: EvacuatedVm[] }>();
    if (hostIds.length === 0) return out;
    const raw = await this.redis.hmget(this.keys.capacity(rolloutId), ...hostIds);
    hostIds.forEach((id, i) => {
      if (raw[i] === null) return;
      const r = JSON.parse(raw[i]!) as CapacityRecord;
      out.set(id, { domain: r.domain, vms: Array.isArray(r.evacuees) ? r.evacuees : [] });
    });
    return out;
  }

  /** Takes the room of `migrations` (all or nothing); the migrations reserved (these, or those of an earlier call), or null when a target is busy or full. */
  async reserve(rolloutId: string, sourceHostId: string, migrations: readonly VmMigration[], sizes: ReadonlyMap<string, EvacuatedVm>): Promise<VmMigration[] | null> {
    const args: (string | number)[] = [sourceHostId, JSON.stringify(migrations)];
    for (const m of migrations) {
      const size = sizes.get(m.vmId);
      args.push(m.targetHostId, size?.vcpus ?? 1, size?.memoryMiB ?? 0);
    }
    const keys = [this.keys.capacity(rolloutId), this.keys.migrations(rolloutId), this.keys.hostStates(rolloutId)];
    const answer = (await RESERVE.run(this.redis, keys, args)) as string;
    return answer === '' ? null : (JSON.parse(answer) as VmMigration[]);
  }

  /** The migrations reserved for a host's evacuation, if any. */
  async reserved(rolloutId: string, sourceHostId: string): Promise<VmMigration[] | null> {
    const raw = await this.redis.hget(this.keys.migrations(rolloutId), sourceHostId);
    return raw === null ? null : (JSON.parse(raw) as VmMigration[]);
  }

  /**
   * Settles the room of an evacuation that ended, from its outcome's `migrations` (those that took
   * effect, migrationsDone): a VM that moved frees its room on the source, one that did not frees
   * its room on the target. Safe to call again.
   */
  async settle(rolloutId: string, hostId: string, outcome: Pick<OutcomeEntry, 'migrations'>): Promise<void> {
    const moved = (outcome.migrations ?? []).map((m) => m.vmId);
    await SETTLE.run(this.redis, [this.keys.capacity(rolloutId), this.keys.migrations(rolloutId)], [hostId, ...moved]);
  }
}
