import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { HostTopology } from '@luo-fleet/topology';
import { FleetKeys, LuaScript, scriptGroupOf, TurnBatch } from '@luo-fleet/redis';
import type { SimulatedHostState } from './simulated-host-state';
import {
  vmName,
  type MigrationResult,
  type VmPlacements,
  parseHostRecord,
  parseHostTopology,
  SimulatedHostNotFoundError,
  SimulatedHostRecordError,
  type SimulatedHostSnapshot,
  type SimulatedHostStore,
} from './simulated-host-store';

/*
 * A turn's reads and changes of simulated hosts, in one script run (TurnBatch): a worker steps a
 * hundred hosts at once, and each step is one of these.
 * KEYS: a host's hash per operation. ARGV, per operation in turn: its kind, and for `w` the expected
 * version, the write id and the state JSON (a read is one argument, not five: clients and Redis pay
 * per argument). The new version is the expected one plus one.
 *   r: read version and state;  t: version, state and topology;  w: compare-and-set on the version.
 * WATCH/MULTI would need a connection per writer (WATCH is per connection, and a shared one is what
 * workers have); a script is atomic on any connection. Each write carries its own id: ioredis sends
 * a command again when the connection dropped before the answer came, and a write that already
 * landed must not look like a lost race (the step would then be applied a second time).
 * Returns per operation: the fields read, or for `w` 1 set, 0 lost the race, -1 no such host;
 * -2 when the key is not a hash.
 */
const HOST_OPS = new LuaScript(`
local out = {}
local a = 1
for i = 1, #KEYS do
  local key = KEYS[i]
  local kind = ARGV[a]
  if kind == 'w' then
    local expected, writer = ARGV[a + 1], ARGV[a + 2]
    local nextVersion = tostring(tonumber(expected) + 1)
    local cur = redis.pcall('HGET', key, 'version')
    if type(cur) == 'table' and cur.err then
      out[i] = -2
    elseif not cur then
      out[i] = -1
    elseif cur ~= expected then
      if cur == nextVersion and redis.call('HGET', key, 'writer') == writer then out[i] = 1 else out[i] = 0 end
    else
      redis.call('HSET', key, 'version', nextVersion, 'writer', writer, 'state', ARGV[a + 3])
      out[i] = 1
    end
    a = a + 4
  else
    a = a + 1
    local fields
    if kind == 't' then
      fields = redis.pcall('HMGET', key, 'version', 'state', 'topology')
    else
      fields = redis.pcall('HMGET', key, 'version', 'state')
    end
    if fields.err then out[i] = -2 else out[i] = fields end
  end
end
return out
`);

type HostOp = { key: string; kind: 'r' | 't' } | { key: string; kind: 'w'; expected: string; writer: string; state: string };
type HostOpResult = (string | null)[] | number;

/**
 * Creates the host unless its key exists (ARGV: version, state JSON, topology JSON). Returns what
 * was there ({version, state, topology}), or nothing when it created the host.
 */
const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HMGET', KEYS[1], 'version', 'state', 'topology') end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'state', ARGV[2], 'topology', ARGV[3])
return nil
`);

/** KEYS: 1 VM -> host hash, then each host's VM set. ARGV: host id, then the VM names. */
const PLACE = new LuaScript(`
for i = 2, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1]) == 1 then redis.call('SADD', KEYS[2], ARGV[i]) end
end
return 1
`);

/**
 * One VM's migration, atomic: both hosts' lists and the VM's host change together or not at all,
 * so a worker killed at any moment leaves the VM on exactly one host. Resent (the VM is on the
 * target already) it answers 0 and changes nothing.
 * KEYS: 1 VM -> host hash, 2 source's set, 3 target's set. ARGV: VM name, source, target.
 * Returns 1 moved, 0 already on the target, -1 on neither.
 */
const MIGRATE = new LuaScript(`
local at = redis.call('HGET', KEYS[1], ARGV[1])
if at == ARGV[3] then return 0 end
if at ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`);

const MAX_ATTEMPTS = 200;
/** Hosts whose last seen record a store remembers (a worker drives a few hundred at a time). */
const REMEMBERED_HOSTS = 4_096;
/**
 * Distinct topologies a store keeps parsed: hosts of one hardware model report the same one, so a
 * fleet has few; and no more than this, since a 32-device host's takes tens of KiB.
 */
const REMEMBERED_TOPOLOGIES = 512;

/**
 * One hash per host (FleetKeys.simulatedHost): `version`, `state` (the record as JSON) and `topology` (JSON), so a step moves only the record.
 */
export class RedisSimulatedHostStore implements SimulatedHostStore {
  /**
   * The record as this store last read or wrote it. An update starts from it instead of reading
   * the host first: the compare-and-set refuses it if anyone wrote since, and then it reads. A
   * host is driven by one worker at a time, so that is rare, and a step costs one round trip.
   */
  private readonly lastSeen = new Map<string, LastSeen>();

  /**
   * Topologies as read, parsed, by their text: a host's is set when it is created and then only
   * read, at precheck and at retrieve, and hosts of one model have the same. An equal text is not
   * parsed again (comparing it costs a fraction of parsing it).
   */
  private readonly topologies = new Map<string, HostTopology>();

  /** Names this store's writes (with `writes`), so that a resent one is recognised. */
  private readonly id = randomBytes(6).toString('hex');
  private writes = 0;

  /** Each turn's operations, one script run per turn (per host on a cluster: a key per slot). */
  private readonly ops: TurnBatch<HostOp, HostOpResult>;

  private readonly keys: FleetKeys;

  /**
   * Reads of this turn not sent yet, by key: a host asked two questions in one turn (precheck asks
   * for its identity and its topology at once) is read once, `t` widening an `r`. A write in
   * between ends the sharing, so no read answers with a record from before a write made before it.
   */
  private readonly unsentReads = new Map<string, { op: { key: string; kind: 'r' | 't' }; result: Promise<HostOpResult> }>();

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.keys = new FleetKeys(prefix);
    this.ops = new TurnBatch(async (_group, ops) => {
      const args: string[] = [];
      for (const op of ops) {
        if (op.kind === 'w') args.push('w', op.expected, op.writer, op.state);
        else {
          args.push(op.kind);
          if (this.unsentReads.get(op.key)?.op === op) this.unsentReads.delete(op.key);
        }
      }
      return (await HOST_OPS.run(redis, ops.map((op) => op.key), args)) as HostOpResult[];
    });
  }

  private op(op: HostOp): Promise<HostOpResult> {
    if (op.kind === 'w') this.unsentReads.delete(op.key);
    return this.ops.submit(scriptGroupOf(this.redis, op.key), op);
  }

  keyOf(hostId: string): string {
    return this.keys.simulatedHost(hostId);
  }

  /** The record as read now, shared with every caller until the host changes: read it, never change it. */
  async load(hostId: string): Promise<SimulatedHostState | null> {
    const key = this.keyOf(hostId);
    const [version, state] = await this.read(key, 'r');
    if (version === null && state === null) return this.forget(hostId);
    return this.sharedState(hostId, version, state);
  }

  /** The record last seen, parsed once and shared by every peek until the host changes: read it, never change it. */
  async peek(hostId: string): Promise<SimulatedHostState | null> {
    const seen = this.lastSeen.get(hostId);
    if (!seen) return this.load(hostId);
    return (seen.shared ??= this.parseRecord(hostId, seen.version, seen.state));
  }

  async loadWithTopology(hostId: string): Promise<SimulatedHostSnapshot | null> {
    const key = this.keyOf(hostId);
    const [version, state, topology] = await this.read(key, 't');
    if (version === null && state === null && topology === null) return this.forget(hostId);
    if (topology === null) throw new SimulatedHostRecordError(`redis key ${key}`, 'field topology missing');
    const parsedState = this.sharedState(hostId, version, state);
    const parsed = this.topologies.get(topology) ?? parseHostTopology(`redis key ${key} field topology`, topology);
    setRecent(this.topologies, topology, parsed, REMEMBERED_TOPOLOGIES);
    return { state: parsedState, topology: parsed };
  }

  async create(state: SimulatedHostState, topology: HostTopology): Promise<SimulatedHostSnapshot> {
    const key = this.keyOf(state.hostId);
    const text = JSON.stringify(state);
    const existing = (await CREATE.run(this.redis, [key], [String(state.version), text, JSON.stringify(topology)])) as (string | null)[] | null;
    if (existing === null) {
      this.remember(state.hostId, String(state.version), text);
      return { state, topology };
    }
    const [version, stored, storedTopology] = existing;
    if (storedTopology === null) throw new SimulatedHostRecordError(`redis key ${key}`, 'field topology missing');
    const parsed = this.parseRecord(state.hostId, version, stored);
    this.remember(state.hostId, version!, stored!);
    return { state: parsed, topology: parseHostTopology(`redis key ${key} field topology`, storedTopology) };
  }

  async update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<void> {
    const key = this.keyOf(hostId);
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      // `fn` changes what it gets: the store's own copy of its last write (taken, so nobody else
      // holds it), else a private parse; after a lost race, read the host (the last seen record proved stale).
      const seen = n === 0 ? this.lastSeen.get(hostId) : undefined;
      let current: SimulatedHostState;
      if (seen?.written) {
        current = seen.written;
        seen.written = undefined;
      } else if (seen) {
        current = this.parseRecord(hostId, seen.version, seen.state);
      } else {
        const [version, state] = await this.read(key, 'r');
        if (version === null && state === null) {
          this.forget(hostId);
          throw new SimulatedHostNotFoundError(hostId);
        }
        current = this.parseRecord(hostId, version, state);
        this.remember(hostId, version!, state!);
      }
      const expected = current.version;
      const next = fn(current);
      next.version = expected + 1;
      const state = JSON.stringify(next);
      const result = (await this.op({ key, kind: 'w', expected: String(expected), writer: `${this.id}:${++this.writes}`, state })) as number;
      if (result === 1) {
        this.remember(hostId, String(next.version), state);
        // The base of this host's next update: no parse of what was just serialised.
        this.lastSeen.get(hostId)!.written = next;
        return;
      }
      this.lastSeen.delete(hostId);
      if (result === -1) throw new SimulatedHostNotFoundError(hostId);
      if (result === -2) throw new SimulatedHostRecordError(`redis key ${key}`, 'not a hash');
      // Lost the race: back off a little more each time so two busy writers stop colliding.
      if (n > 2) await new Promise((r) => setTimeout(r, Math.min(n, 20)));
    }
    throw new Error(`simulated host ${hostId}: gave up after ${MAX_ATTEMPTS} conflicting updates of ${key}`);
  }

  /**
   * A record read from Redis, parsed once and shared until the host changes: the last seen one when
   * it is the same (two questions asked in one turn, or this store's own last write read back),
   * which also keeps that write as the base of the host's next update.
   */
  private sharedState(hostId: string, version: string | null, state: string | null): SimulatedHostState {
    const seen = this.lastSeen.get(hostId);
    if (seen && seen.version === version && seen.state === state) return (seen.shared ??= this.parseRecord(hostId, version, state));
    const parsed = this.parseRecord(hostId, version, state);
    this.remember(hostId, version!, state!);
    this.lastSeen.get(hostId)!.shared = parsed;
    return parsed;
  }

  private parseRecord(hostId: string, version: string | null, state: string | null): SimulatedHostState {
    const key = this.keyOf(hostId);
    if (state === null || version === null) throw new SimulatedHostRecordError(`redis key ${key}`, `field ${state === null ? 'state' : 'version'} missing`);
    const parsed = parseHostRecord(`redis key ${key} field state`, state);
    // The hash field is what the compare-and-set checks; the copy inside the JSON follows it.
    parsed.version = Number(version);
    return parsed;
  }

  private remember(hostId: string, version: string, state: string): void {
    setRecent(this.lastSeen, hostId, { version, state }, REMEMBERED_HOSTS);
  }

  private forget(hostId: string): null {
    this.lastSeen.delete(hostId);
    return null;
  }

  private async read(key: string, kind: 'r' | 't'): Promise<(string | null)[]> {
    let unsent = this.unsentReads.get(key);
    if (unsent) {
      if (kind === 't') unsent.op.kind = 't';
    } else {
      const op = { key, kind };
      unsent = { op, result: this.op(op) };
      this.unsentReads.set(key, unsent);
    }
    const fields = await unsent.result;
    if (fields === -2) throw new SimulatedHostRecordError(`redis key ${key}`, 'not a hash');
    return fields as (string | null)[];
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    // Each host has its own hash tag: on a Redis Cluster they are spread over every master, so each is scanned.
    for (const node of await this.keyspaceNodes()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', this.keys.simulatedHostPattern(), 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          const id = this.keys.simulatedHostIdOf(k);
          if (id !== null) ids.push(id);
        }
      } while (cursor !== '0');
    }
    return [...new Set(ids)].sort();
  }

  async placeVms(hostId: string, vmIds: readonly string[]): Promise<void> {
    if (vmIds.length === 0) return;
    await PLACE.run(this.redis, [this.keys.simulatedVmHosts(), this.keys.simulatedVmsOn(hostId)], [hostId, ...vmIds.map((id) => vmName(hostId, id))]);
  }

  async vmsOn(hostId: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.simulatedVmsOn(hostId))).sort();
  }

  async migrateVm(name: string, from: string, to: string): Promise<MigrationResult> {
    const keys = [this.keys.simulatedVmHosts(), this.keys.simulatedVmsOn(from), this.keys.simulatedVmsOn(to)];
    const result = (await MIGRATE.run(this.redis, keys, [name, from, to])) as number;
    return result === 1 ? 'moved' : result === 0 ? 'already' : 'elsewhere';
  }

  async placements(): Promise<VmPlacements> {
    const hostOf = new Map(Object.entries(await this.redis.hgetall(this.keys.simulatedVmHosts())));
    const lists = new Map<string, string[]>();
    const hosts = [...new Set([...hostOf.values(), ...(await this.list())])];
    const vms = await Promise.all(hosts.map((host) => this.vmsOn(host)));
    hosts.forEach((host, i) => {
      if (vms[i].length > 0) lists.set(host, vms[i]);
    });
    return { hostOf, lists };
  }

  private async keyspaceNodes(): Promise<Redis[]> {
    if (!this.redis.isCluster) return [this.redis as Redis];
    const cluster = this.redis as Cluster;
    if (cluster.nodes('master').length === 0) await cluster.ping();
    return cluster.nodes('master');
  }
}

interface LastSeen {
  version: string;
  state: string;
  /** Parsed for `peek`, shared by its callers: never changed. */
  shared?: SimulatedHostState;
  /** The object this store last wrote as this version, owned by the store until an update takes it. */
  written?: SimulatedHostState;
}

/** Sets `key` as the most recent entry of `map`, dropping the least recent beyond `limit`. */
function setRecent<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  // Maps iterate in insertion order: the first key is the one set longest ago.
  if (map.size > limit) map.delete(map.keys().next().value!);
}
