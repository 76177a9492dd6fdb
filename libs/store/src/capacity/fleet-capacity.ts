import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import type { OutcomeEntry, VmMigration } from '@luo-fleet/handover';
import type { EvacuatedVm, HostCapacity, TargetHost, VmSize } from '@luo-fleet/rollout';
import { labelValue } from '../inventory/inventory-host';
import { decodeVms } from '../inventory/vm-record';

/** A reserved migration with the size it holds on its target. */
type HeldMigration = VmMigration & VmSize;

/*
 * What runs on an inventory host and what is held there, against its capacity. A host's load is
 * its inventory VM list (one VM slot, one vCPU and its memory each, as the planner sizes an
 * evacuated VM), plus the room evacuations reserved on it (evacuationReserved).
 */
const ROOM_FUNCTIONS = `
local function usedOn(hostKey, reservedKey, host)
  local f = redis.call('HMGET', hostKey, 'capacity', 'vms')
  if not f[1] then return nil end
  local used = {vms = 0, vcpus = 0, memoryMiB = 0}
  if f[2] and f[2] ~= '' then
    for _, vm in ipairs(cjson.decode(f[2])) do
      used.vms = used.vms + 1
      used.vcpus = used.vcpus + 1
      used.memoryMiB = used.memoryMiB + vm[4]
    end
  end
  local held = redis.call('HGET', reservedKey, host)
  if held then
    local r = cjson.decode(held)
    used.vms = used.vms + r.vms
    used.vcpus = used.vcpus + r.vcpus
    used.memoryMiB = used.memoryMiB + r.memoryMiB
  end
  return cjson.decode(f[1]), used
end
local function fits(cap, used)
  if cap.slots ~= nil then return used.vms <= cap.slots end
  return used.vcpus <= cap.vcpus and used.memoryMiB <= cap.memoryMiB
end
local function roomLeft(cap, used)
  if cap.slots ~= nil then
    if cap.slots <= 0 then return 0 end
    return (cap.slots - used.vms) / cap.slots
  end
  if cap.vcpus <= 0 or cap.memoryMiB <= 0 then return 0 end
  return math.min((cap.vcpus - used.vcpus) / cap.vcpus, (cap.memoryMiB - used.memoryMiB) / cap.memoryMiB)
end
local function indexRoom(roomKey, hostKey, reservedKey, host)
  local cap, used = usedOn(hostKey, reservedKey, host)
  if cap == nil then redis.call('ZREM', roomKey, host)
  else redis.call('ZADD', roomKey, roomLeft(cap, used), host) end
end
`;

/*
 * Refreshes the room index of hosts from what they hold now. KEYS: 1 room, 2 reserved, then the
 * host hashes. ARGV: the host ids, in the same order.
 */
const INDEX = new LuaScript(`${ROOM_FUNCTIONS}
for i = 3, #KEYS do indexRoom(KEYS[1], KEYS[i], KEYS[2], ARGV[i - 2]) end
return #KEYS - 2
`);

/*
 * Reserves room for one evacuation, atomically against every other of every rollout: each target
 * must be claimed by no active rollout (in flight or about to be) and keep within its capacity with
 * its load, every reservation held on it and the new VMs; then the room is held and the migrations
 * kept under `<rollout>/<source>`. All or nothing. Resent (the migrations are kept) it answers them
 * and changes nothing.
 * KEYS: 1 reserved, 2 migrations, 3 room, then per target its host hash and its claims set.
 * ARGV: 1 `<rollout>/<source>`, 2 migrations JSON, then per target: id, VMs, vCPUs, memory MiB.
 * Returns the migrations JSON, or '' when a target is busy or full.
 */
const RESERVE = new LuaScript(`${ROOM_FUNCTIONS}
local have = redis.call('HGET', KEYS[2], ARGV[1])
if have then return have end
local n = (#KEYS - 3) / 2
local adds = {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  if redis.call('SCARD', KEYS[3 + 2 * i]) > 0 then return '' end
  local cap, used = usedOn(KEYS[2 + 2 * i], KEYS[1], ARGV[a + 1])
  if cap == nil then return '' end
  local add = {vms = tonumber(ARGV[a + 2]), vcpus = tonumber(ARGV[a + 3]), memoryMiB = tonumber(ARGV[a + 4])}
  used.vms = used.vms + add.vms
  used.vcpus = used.vcpus + add.vcpus
  used.memoryMiB = used.memoryMiB + add.memoryMiB
  if not fits(cap, used) then return '' end
  adds[i] = add
end
for i = 1, n do
  local host = ARGV[2 + (i - 1) * 4 + 1]
  local raw = redis.call('HGET', KEYS[1], host)
  local r = raw and cjson.decode(raw) or {vms = 0, vcpus = 0, memoryMiB = 0}
  r.vms = r.vms + adds[i].vms
  r.vcpus = r.vcpus + adds[i].vcpus
  r.memoryMiB = r.memoryMiB + adds[i].memoryMiB
  redis.call('HSET', KEYS[1], host, cjson.encode(r))
  indexRoom(KEYS[3], KEYS[2 + 2 * i], KEYS[1], host)
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ARGV[2]
`);

/*
 * Gives back the room an evacuation held: its migrations have ended (the VMs that moved are in their
 * targets' inventory lists by now, so they count there as load). The migrations are dropped, so a
 * second call gives nothing back twice; the room index of the hosts named is refreshed either way.
 * KEYS: 1 reserved, 2 migrations, 3 room, then the host hashes to refresh.
 * ARGV: 1 `<rollout>/<source>`, then the host ids of those hashes. Returns 1 given back, 0 none held.
 */
const RELEASE = new LuaScript(`${ROOM_FUNCTIONS}
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if raw then
  for _, m in ipairs(cjson.decode(raw)) do
    local held = redis.call('HGET', KEYS[1], m.targetHostId)
    if held then
      local r = cjson.decode(held)
      r.vms = r.vms - 1
      r.vcpus = r.vcpus - m.vcpus
      r.memoryMiB = r.memoryMiB - m.memoryMiB
      if r.vms <= 0 then redis.call('HDEL', KEYS[1], m.targetHostId)
      else redis.call('HSET', KEYS[1], m.targetHostId, cjson.encode(r)) end
    end
  end
  redis.call('HDEL', KEYS[2], ARGV[1])
end
for i = 4, #KEYS do indexRoom(KEYS[3], KEYS[i], KEYS[1], ARGV[i - 2]) end
return raw and 1 or 0
`);

/*
 * A host's outcome is recorded: unless it failed (it waits for a person) it gives back its
 * rollout's claim, and an updated host records the kernel it runs now (evacuations prefer hosts on
 * their target kernel); nothing is written on a host no longer registered.
 * KEYS: 1 the host's hash, 2 its claims. ARGV: 1 rollout id, 2 kernel ('' none), 3 '1' keeps the claim.
 */
const HOST_ENDED = new LuaScript(`
if ARGV[3] ~= '1' then redis.call('SREM', KEYS[2], ARGV[1]) end
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[1], 'labels') == 1 then redis.call('HSET', KEYS[1], 'kernelRelease', ARGV[2]) end
return 1
`);

/** How a rollout's evacuation looks for targets. */
export interface TargetQuery {
  /** The kernel the rollout installs: hosts already on it are preferred. */
  targetKernel: string;
  /** The label whose value is a host's failure domain. */
  domainKey: string;
  /** Only hosts of this domain (`evacuation.sameDomain`): every host of its label index is read. */
  domain?: string;
  /** Else the hosts with the most room left, this many at most. */
  limit: number;
}

/**
 * The room evacuations may use fleet-wide, beside the inventory (its hash tag, so that a
 * reservation reads the hosts' VM lists and capacities in the same script): any inventory host
 * with a capacity that no active rollout holds (claimed from creation to outcome) may take VMs,
 * within its capacity counting its VMs and every reservation of every rollout on it. Reservations
 * are made atomically (RESERVE) and given back once the VMs moved in the inventory.
 */
export class FleetCapacity {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  /** The hosts a new rollout will update: in flight or about to be, they take no VM until their outcome. */
  async claim(rolloutId: string, hostIds: readonly string[]): Promise<void> {
    await this.eachClaim(hostIds, (p, key) => p.sadd(key, rolloutId));
  }

  /** The host's outcome is recorded: it may take VMs again (a failed one is left claimed: it waits for a person). */
  async unclaim(rolloutId: string, hostIds: readonly string[]): Promise<void> {
    await this.eachClaim(hostIds, (p, key) => p.srem(key, rolloutId));
  }

  /** A host's outcome, as the worker that ran it records it (HOST_ENDED): one round trip. */
  async hostEnded(rolloutId: string, hostId: string, outcome: Pick<OutcomeEntry, 'outcome' | 'kernelRelease'>): Promise<void> {
    const kernel = outcome.outcome === 'updated' ? (outcome.kernelRelease ?? '') : '';
    await HOST_ENDED.run(this.redis, [this.keys.inventoryHost(hostId), this.keys.evacuationClaims(hostId)], [rolloutId, kernel, outcome.outcome === 'failed' ? '1' : '0']);
  }

  private async eachClaim(hostIds: readonly string[], op: (p: ReturnType<RedisClient['pipeline']>, key: string) => void): Promise<void> {
    for (let i = 0; i < hostIds.length; i += 1_000) {
      const p = this.redis.pipeline();
      for (const id of hostIds.slice(i, i + 1_000)) op(p, this.keys.evacuationClaims(id));
      await p.exec();
    }
  }

  /** Refreshes the room index of hosts whose capacity or VMs changed (registration, removal). */
  async index(hostIds: readonly string[]): Promise<void> {
    const k = this.keys;
    for (let i = 0; i < hostIds.length; i += 1_000) {
      const chunk = hostIds.slice(i, i + 1_000);
      await INDEX.run(this.redis, [k.evacuationRoom(), k.evacuationReserved(), ...chunk.map((id) => k.inventoryHost(id))], chunk);
    }
  }

  /** Hosts that might take VMs, as chooseEvacuationTargets wants them (reservations counted in their load), and which are busy. */
  async targets(q: TargetQuery): Promise<{ hosts: TargetHost[]; busy: Set<string> }> {
    const k = this.keys;
    const ids =
      q.domain === undefined
        ? await this.redis.zrevrange(k.evacuationRoom(), 0, q.limit - 1)
        : await this.redis.zrange(k.inventoryLabel(q.domainKey, q.domain), 0, -1);
    const hosts: TargetHost[] = [];
    const busy = new Set<string>();
    if (ids.length === 0) return { hosts, busy };
    const p = this.redis.pipeline();
    for (const id of ids) {
      p.hmget(k.inventoryHost(id), 'capacity', 'vms', 'labels', 'kernelRelease');
      p.scard(k.evacuationClaims(id));
    }
    p.hmget(k.evacuationReserved(), ...ids);
    const answers = ((await p.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const reserved = answers[answers.length - 1] as Array<string | null>;
    ids.forEach((hostId, i) => {
      const [capacity, vms, labels, kernel] = answers[2 * i] as Array<string | null>;
      if (capacity === null || labels === null) return;
      if ((answers[2 * i + 1] as number) > 0) busy.add(hostId);
      const parsed = JSON.parse(labels) as Record<string, string>;
      hosts.push({
        hostId,
        capacity: JSON.parse(capacity) as HostCapacity,
        load: loadOf(vms, reserved[i]),
        onTargetKernel: (kernel ?? labelValue(parsed, 'kernel')) === q.targetKernel,
        domain: labelValue(parsed, q.domainKey) ?? '(none)',
      });
    });
    return { hosts, busy };
  }

  /** Holds the room of `migrations` (all or nothing); the migrations held (these, or an earlier call's), or null when a target is busy or full. */
  async reserve(rolloutId: string, sourceHostId: string, migrations: readonly VmMigration[], sizes: ReadonlyMap<string, EvacuatedVm>): Promise<VmMigration[] | null> {
    const k = this.keys;
    const held: HeldMigration[] = migrations.map((m) => ({ ...m, vcpus: sizes.get(m.vmId)?.vcpus ?? 1, memoryMiB: sizes.get(m.vmId)?.memoryMiB ?? 0 }));
    const byTarget = new Map<string, VmSize & { vms: number }>();
    for (const m of held) {
      const t = byTarget.get(m.targetHostId) ?? { vms: 0, vcpus: 0, memoryMiB: 0 };
      t.vms++;
      t.vcpus += m.vcpus;
      t.memoryMiB += m.memoryMiB;
      byTarget.set(m.targetHostId, t);
    }
    const keys = [k.evacuationReserved(), k.evacuationMigrations(), k.evacuationRoom()];
    const args: Array<string | number> = [`${rolloutId}/${sourceHostId}`, JSON.stringify(held)];
    for (const [target, add] of byTarget) {
      keys.push(k.inventoryHost(target), k.evacuationClaims(target));
      args.push(target, add.vms, add.vcpus, add.memoryMiB);
    }
    const answer = (await RESERVE.run(this.redis, keys, args)) as string;
    return answer === '' ? null : migrationsOf(answer);
  }

  /** The migrations reserved for a host's evacuation in a rollout, if any. */
  async reserved(rolloutId: string, sourceHostId: string): Promise<VmMigration[] | null> {
    const raw = await this.redis.hget(this.keys.evacuationMigrations(), `${rolloutId}/${sourceHostId}`);
    return raw === null ? null : migrationsOf(raw);
  }

  /** The evacuation ended and its VMs are where the inventory lists them: its reservations are given back. Safe to call again. */
  async release(rolloutId: string, sourceHostId: string): Promise<void> {
    const k = this.keys;
    const hosts = [sourceHostId, ...new Set(((await this.reserved(rolloutId, sourceHostId)) ?? []).map((m) => m.targetHostId))];
    await RELEASE.run(this.redis, [k.evacuationReserved(), k.evacuationMigrations(), k.evacuationRoom(), ...hosts.map((id) => k.inventoryHost(id))], [`${rolloutId}/${sourceHostId}`, ...hosts]);
  }
}

function migrationsOf(raw: string): VmMigration[] {
  return (JSON.parse(raw) as HeldMigration[]).map((m) => ({ vmId: m.vmId, targetHostId: m.targetHostId }));
}

/** A host's inventory VMs (one vCPU each, as the planner sizes them) plus what is reserved on it. */
function loadOf(vms: string | null, reserved: string | null): { vms: number } & VmSize {
  const load = { vms: 0, vcpus: 0, memoryMiB: 0 };
  for (const vm of decodeVms(vms)) {
    load.vms++;
    load.vcpus++;
    load.memoryMiB += vm.memory.sizeMiB;
  }
  if (reserved) {
    const r = JSON.parse(reserved) as { vms: number } & VmSize;
    load.vms += r.vms;
    load.vcpus += r.vcpus;
    load.memoryMiB += r.memoryMiB;
  }
  return load;
}
