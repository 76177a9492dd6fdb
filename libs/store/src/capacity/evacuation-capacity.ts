import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import type { VmMigration } from '@luo-fleet/handover';
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
 * An evacuated host runs no VMs any more: its room is free for others. KEYS: 1 capacity. ARGV: host.
 */
const EMPTIED = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local r = cjson.decode(raw)
r.used = {vms = 0, vcpus = 0, memoryMiB = 0}
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
return 1
`);

/**
 * The room evacuations may use in one rollout, in Redis under the rollout's hash tag: recorded at
 * creation for every host with a known capacity, taken by reservations (RESERVE, atomic, so two
 * hosts draining at once never overbook a target), given back when an evacuated host is empty.
 * A reservation stays as load on its target: the VM runs there once migrated, and a drain that
 * stopped half-way may have moved it (counting it keeps every target within its capacity).
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

  /** The host was evacuated and runs nothing now. */
  async emptied(rolloutId: string, hostId: string): Promise<void> {
    await EMPTIED.run(this.redis, [this.keys.capacity(rolloutId)], [hostId]);
  }
}
