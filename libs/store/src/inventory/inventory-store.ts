import { fleetVmName, type HostTopology, type Vm } from '@luo-fleet/topology';
import { FleetKeys, LuaScript, type RedisClient } from '@luo-fleet/redis';
import type { HostDriverSpec, VmMigration } from '@luo-fleet/handover';
import type { HostCapacity } from '@luo-fleet/rollout';
import type { InventoryHost, InventoryHostInput, InventoryHostSummary } from './inventory-host';
import { matchesSelector, requiredPairs, type LabelSelector } from './inventory-selector';
import { decodeVms, encodeVms } from './vm-record';
import { decodeHostFacts, encodeLuoEnabled, type HostFacts } from './host-facts';
import { FleetCapacity } from '../capacity/fleet-capacity';

/*
 * Keys (FleetKeys.inventoryIds, inventoryHost, inventoryLabel) share one hash tag, so scripts work
 * on Redis Cluster too. Selection walks the smallest index set that every match must be in and
 * filters on the labels, so a selective label never costs a scan of the whole fleet.
 */

// Compare-and-set on the stored labels: the caller read them to name the old index keys, and the
// script only goes ahead if they are still the same (else the caller reads again and retries).
const PUT = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], 'labels')
if not cur then cur = '' end
if cur ~= ARGV[2] then return -1 end
local nOld = tonumber(ARGV[3])
for i = 1, nOld do redis.call('ZREM', KEYS[2 + i], ARGV[1]) end
for i = 3 + nOld, #KEYS do redis.call('ZADD', KEYS[i], 0, ARGV[1]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'labels', ARGV[4], 'driver', ARGV[5], 'registeredAt', ARGV[6], 'devices', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'topology', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'vms', ARGV[9], 'vmCount', ARGV[10]) end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'capacity', ARGV[11]) end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'luoEnabled', ARGV[12]) end
return redis.call('ZADD', KEYS[2], 0, ARGV[1])
`);

const REMOVE = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], 'labels')
if not cur then return 0 end
if cur ~= ARGV[2] then return -1 end
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`);

// Only the topology, VMs and known host facts change, and only while the host is still registered with the driver
// they were read through: a re-registration in between wins.
const SET_TOPOLOGY = new LuaScript(`
local driver = redis.call('HGET', KEYS[1], 'driver')
if not driver then return 0 end
if driver ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'devices', ARGV[2], 'topology', ARGV[3])
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'vms', 'vmCount')
else redis.call('HSET', KEYS[1], 'vms', ARGV[4], 'vmCount', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'luoEnabled', ARGV[6]) end
return 1
`);

// Compare-and-set on the VM lists of the hosts a migration touches (a source and its targets):
// every list is still what the caller read, or nothing is written (the caller reads again). A host
// no longer registered is left alone.
// KEYS: the host hashes. ARGV: per key, the VM list read ('' for none), the new one, its count.
const MOVE_VMS = new LuaScript(`
for i = 1, #KEYS do
  local cur = redis.call('HGET', KEYS[i], 'vms') or ''
  if cur ~= ARGV[3 * i - 2] then return -1 end
end
for i = 1, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'labels') == 1 then
    local new = ARGV[3 * i - 1]
    if new == '' then redis.call('HDEL', KEYS[i], 'vms', 'vmCount')
    else redis.call('HSET', KEYS[i], 'vms', new, 'vmCount', ARGV[3 * i]) end
  end
end
return 1
`);

const MAX_CAS_ATTEMPTS = 20;
const WALK_CHUNK = 500;

export interface HostPage {
  hosts: InventoryHostSummary[];
  /** Pass as `cursor` for the next page; null when there are no more (a full last page may still carry one, leading to an empty page). */
  nextCursor: string | null;
}

export class InventoryStore {
  private readonly keys: FleetKeys;
  /** The room index of evacuation targets follows every change of a host's capacity or VMs. */
  private readonly room: FleetCapacity;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new FleetKeys(prefix);
    this.room = new FleetCapacity(redis, this.keys);
  }

  private get idsKey(): string {
    return this.keys.inventoryIds();
  }

  private hostKey(id: string): string {
    return this.keys.inventoryHost(id);
  }

  private labelKey(key: string, value: string): string {
    return this.keys.inventoryLabel(key, value);
  }

  private labelKeys(labelsJson: string): string[] {
    if (labelsJson === '') return [];
    return Object.entries(JSON.parse(labelsJson) as Record<string, string>).map(([k, v]) => this.labelKey(k, v));
  }

  /** Registers or replaces hosts; returns how many were new. Each host is replaced atomically. */
  async putMany(hosts: readonly InventoryHostInput[], registeredAt = new Date()): Promise<{ created: number; replaced: number }> {
    let pending = hosts.map((host) => ({ host, fields: encode(host, registeredAt) }));
    let created = 0;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`inventory: ${pending.length} hosts kept changing under concurrent writes`);
      const reads = this.redis.pipeline();
      for (const { host } of pending) reads.hget(this.hostKey(host.id), 'labels');
      const current = (await reads.exec()) ?? [];
      const puts = pending.map(({ host, fields }, i) => {
        const [err, value] = current[i];
        if (err) throw err;
        const oldLabels = (value as string | null) ?? '';
        const oldKeys = this.labelKeys(oldLabels);
        const newKeys = Object.entries(host.labels).map(([k, v]) => this.labelKey(k, v));
        return {
          keys: [this.hostKey(host.id), this.idsKey, ...oldKeys, ...newKeys],
          args: [host.id, oldLabels, oldKeys.length, fields.labels, fields.driver, fields.registeredAt, fields.devices, fields.topology, fields.vms, fields.vmCount, fields.capacity, encodeLuoEnabled(host)],
        };
      });
      const results = await PUT.runMany(this.redis, puts);
      const retry: typeof pending = [];
      results.forEach((value, i) => {
        if (value === -1) retry.push(pending[i]);
        else created += value as number;
      });
      pending = retry;
    }
    await this.room.index(hosts.map((h) => h.id));
    return { created, replaced: hosts.length - created };
  }

  /** Registers or replaces one host; true when it was new. */
  async put(host: InventoryHostInput, registeredAt = new Date()): Promise<boolean> {
    return (await this.putMany([host], registeredAt)).created === 1;
  }

  async get(id: string): Promise<InventoryHost | null> {
    const [labels, driver, registeredAt, topology, vms, capacity, luoEnabled] = await this.redis.hmget(this.hostKey(id), 'labels', 'driver', 'registeredAt', 'topology', 'vms', 'capacity', 'luoEnabled');
    if (labels === null) return null;
    return {
      ...(capacity ? { capacity: JSON.parse(capacity) as HostCapacity } : {}),
      ...decodeHostFacts(luoEnabled),
      id,
      labels: JSON.parse(labels) as Record<string, string>,
      driver: JSON.parse(driver ?? '{"kind":"simulated"}') as HostDriverSpec,
      registeredAt: registeredAt ?? '',
      topology: topology ? (JSON.parse(topology) as HostTopology) : null,
      vms: decodeVms(vms),
    };
  }

  /**
   * Replaces a host's topology and VMs, keeping its labels, driver and registration time; only while
   * it is still registered with `driver` (the one they were read through). A fact of `facts` replaces
   * the stored one; one it does not know leaves the stored one as it is.
   */
  async setTopology(id: string, driver: HostDriverSpec, topology: HostTopology, vms: readonly Vm[] = [], facts: HostFacts = {}): Promise<'stored' | 'missing' | 'driver-changed'> {
    const args = [JSON.stringify(driver), String(topology.devices.length), JSON.stringify(topology), vms.length === 0 ? '' : encodeVms(vms), String(vms.length), encodeLuoEnabled(facts)];
    const result = await SET_TOPOLOGY.run(this.redis, [this.hostKey(id)], args);
    if (result === 1) await this.room.index([id]);
    return result === 1 ? 'stored' : result === 0 ? 'missing' : 'driver-changed';
  }

  /**
   * Shows migrated VMs on their targets: each VM of `migrations` still listed on the source leaves
   * it for its target, under its fleet-wide name (fleetVmName: ids are unique per host only) and
   * without devices (passthrough hardware stays with its host). One atomic write for the source and
   * its targets; a VM no longer on the source (moved already, or the host registered again since)
   * is left alone, so calling it again changes nothing. Returns how many VMs it moved.
   */
  async moveVms(sourceHostId: string, migrations: readonly VmMigration[]): Promise<number> {
    if (migrations.length === 0) return 0;
    const ids = [sourceHostId, ...new Set(migrations.map((m) => m.targetHostId).filter((t) => t !== sourceHostId))];
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const read = this.redis.pipeline();
      for (const id of ids) read.hget(this.hostKey(id), 'vms');
      const before = ((await read.exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return (v as string | null) ?? '';
      });
      const lists = new Map(ids.map((id, i) => [id, decodeVms(before[i])]));
      const moved = movedLists(sourceHostId, migrations, lists);
      if (moved === 0) return 0;
      const args = ids.flatMap((id, i) => {
        const vms = lists.get(id)!;
        return [before[i], vms.length === 0 ? '' : encodeVms(vms), String(vms.length)];
      });
      if ((await MOVE_VMS.run(this.redis, ids.map((id) => this.hostKey(id)), args)) !== -1) return moved;
    }
    throw new Error(`inventory: the VMs of ${sourceHostId} kept changing under concurrent writes`);
  }

  /** True when the host was there. */
  async remove(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const labels = (await this.redis.hget(this.hostKey(id), 'labels')) ?? '';
      if (labels === '') return false;
      const keys = this.labelKeys(labels);
      const result = await REMOVE.run(this.redis, [this.hostKey(id), this.idsKey, ...keys], [id, labels]);
      if (result === 1) await this.room.index([id]);
      if (result !== -1) return result === 1;
    }
    throw new Error(`inventory: host ${id} kept changing under concurrent writes`);
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.idsKey);
  }

  /** One page of matching hosts in id order, without topologies. */
  async list(selector: LabelSelector, opts: { limit: number; cursor?: string }): Promise<HostPage> {
    const hosts: InventoryHostSummary[] = [];
    for await (const chunk of this.walk(selector, opts.cursor, false)) {
      for (const host of chunk) {
        hosts.push(summaryOf(host));
        if (hosts.length === opts.limit) return { hosts, nextCursor: host.id };
      }
    }
    return { hosts, nextCursor: null };
  }

  /** Every matching host with its topology, in id order, a chunk at a time (plans, rollouts). */
  async *scan(selector: LabelSelector, opts: { cursor?: string } = {}): AsyncGenerator<InventoryHost[]> {
    yield* this.walk(selector, opts.cursor, true);
  }

  private async *walk(selector: LabelSelector, cursor: string | undefined, withTopology: boolean): AsyncGenerator<Array<InventoryHost & { devices: number | null; vmCount: number }>> {
    const source = await this.smallestCandidateSet(selector);
    if (source === null) return;
    let from = cursor === undefined ? '-' : `(${cursor}`;
    for (;;) {
      const ids = await this.redis.zrangebylex(source, from, '+', 'LIMIT', 0, WALK_CHUNK);
      if (ids.length === 0) return;
      const reads = this.redis.pipeline();
      const fields = ['labels', 'driver', 'registeredAt', 'devices', 'vmCount', ...(withTopology ? ['topology', 'vms', 'capacity', 'luoEnabled'] : [])];
      for (const id of ids) reads.hmget(this.hostKey(id), ...fields);
      const rows = (await reads.exec()) ?? [];
      const chunk: Array<InventoryHost & { devices: number | null; vmCount: number }> = [];
      rows.forEach(([err, row], i) => {
        if (err) throw err;
        const [labels, driver, registeredAt, devices, vmCount, topology, vms, capacity, luoEnabled] = row as Array<string | null>;
        // Removed between the index read and this one.
        if (labels === null) return;
        const parsedLabels = JSON.parse(labels) as Record<string, string>;
        if (!matchesSelector(parsedLabels, selector)) return;
        chunk.push({
          id: ids[i],
          labels: parsedLabels,
          driver: JSON.parse(driver ?? '{"kind":"simulated"}') as HostDriverSpec,
          registeredAt: registeredAt ?? '',
          devices: devices === null || devices === '' ? null : Number(devices),
          topology: topology ? (JSON.parse(topology) as HostTopology) : null,
          vms: decodeVms(vms),
          vmCount: vmCount === null ? 0 : Number(vmCount),
          ...(capacity ? { capacity: JSON.parse(capacity) as HostCapacity } : {}),
          ...decodeHostFacts(luoEnabled),
        });
      });
      if (chunk.length > 0) yield chunk;
      if (ids.length < WALK_CHUNK) return;
      from = `(${ids[ids.length - 1]}`;
    }
  }

  /** The index set to walk: the smallest `k=v` set the selector demands, else all ids; null if one is empty. */
  private async smallestCandidateSet(selector: LabelSelector): Promise<string | null> {
    const pairs = requiredPairs(selector);
    if (pairs.length === 0) return this.idsKey;
    const keys = pairs.map(([k, v]) => this.labelKey(k, v));
    const sizes = await Promise.all(keys.map((key) => this.redis.zcard(key)));
    let best = 0;
    sizes.forEach((size, i) => {
      if (size < sizes[best]) best = i;
    });
    return sizes[best] === 0 ? null : keys[best];
  }
}

function encode(host: InventoryHostInput, registeredAt: Date) {
  return {
    labels: JSON.stringify(host.labels),
    driver: JSON.stringify(host.driver),
    registeredAt: registeredAt.toISOString(),
    devices: host.topology === null ? '' : String(host.topology.devices.length),
    topology: host.topology === null ? '' : JSON.stringify(host.topology),
    vms: host.vms === undefined || host.vms.length === 0 ? '' : encodeVms(host.vms),
    vmCount: String(host.vms?.length ?? 0),
    capacity: host.capacity === undefined ? '' : JSON.stringify(host.capacity),
  };
}

/** Moves, in `lists`, each VM of `migrations` still on the source to its target; returns how many moved. */
function movedLists(sourceHostId: string, migrations: readonly VmMigration[], lists: Map<string, Vm[]>): number {
  let moved = 0;
  for (const m of migrations) {
    const source = lists.get(sourceHostId)!;
    const at = source.findIndex((vm) => vm.id === m.vmId);
    if (at < 0 || m.targetHostId === sourceHostId) continue;
    const [vm] = source.splice(at, 1);
    const arrived: Vm = { ...vm, id: fleetVmName(sourceHostId, vm.id), devices: [] };
    const target = lists.get(m.targetHostId)!.filter((other) => other.id !== arrived.id);
    target.push(arrived);
    lists.set(m.targetHostId, target);
    moved++;
  }
  return moved;
}

function summaryOf(host: InventoryHost & { devices: number | null; vmCount: number }): InventoryHostSummary {
  return { id: host.id, labels: host.labels, driver: host.driver, registeredAt: host.registeredAt, devices: host.devices, vms: host.vmCount };
}
