import { fleetVmName, type HostTopology } from '@luo-fleet/topology';
import type { SimulatedHostState } from './simulated-host-state';

/** A host's record together with the PCI topology it reports, read at one moment. */
export interface SimulatedHostSnapshot {
  state: SimulatedHostState;
  topology: HostTopology;
}

/**
 * Where simulated hosts keep their own records, outside any worker process. Each host has its
 * record (changed on every step) and its topology (set when the host is created, a hot-plug fault
 * included), kept apart so that a step does not read and rewrite the hardware. Updates are atomic per host: a stale worker and
 * the one that took over may touch a host at the same moment.
 */
export interface SimulatedHostStore {
  /** The record as it is now. The answer may be shared with other callers: read it, never change it. */
  load(hostId: string): Promise<SimulatedHostState | null>;
  /**
   * The record as this store last saw it, read only when it saw none: for what a step does not
   * change under another writer's feet (seed, faults, call counts for the latency draws, a boot
   * that ends at a fixed time). Decisions that need the present state go through `update`. The
   * answer may be shared with other callers: read it, never change it.
   */
  peek(hostId: string): Promise<SimulatedHostState | null>;
  /** The topology in the answer may be shared with other callers (it never changes): read it, never change it. */
  loadWithTopology(hostId: string): Promise<SimulatedHostSnapshot | null>;
  /** Stores the host unless it exists; returns what is stored afterwards. */
  create(state: SimulatedHostState, topology: HostTopology): Promise<SimulatedHostSnapshot>;
  /**
   * Applies `fn` to the current record and stores the result with `version` bumped. `fn` gets a
   * private copy it may change, and may run more than once (when another writer got in first), so
   * it must not have other effects, nor keep the object it returns (a store may start the host's
   * next update from it). Throws SimulatedHostNotFoundError for an unknown host.
   */
  update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<void>;
  /** Ids of every host in the store. */
  list(): Promise<string[]>;
  /**
   * Places VMs (their ids on `hostId`) on the host, each unless it is placed already: a VM runs on
   * one host, and one migrated away stays where it went.
   */
  placeVms(hostId: string, vmIds: readonly string[]): Promise<void>;
  /** The VMs running on the host, by fleet-wide name (`vmName`), sorted. */
  vmsOn(hostId: string): Promise<string[]>;
  /**
   * Moves one VM from `from` to `to` in one atomic write: `moved`; `already` when it is on `to`
   * (a resent move, after a crash); `elsewhere` when it is on neither (nothing changes).
   */
  migrateVm(vmName: string, from: string, to: string): Promise<MigrationResult>;
  /** Every VM and the host it runs on, and every host's own list: a VM in two lists, or in a list that is not its host's, is a duplicate. */
  placements(): Promise<VmPlacements>;
}

export type MigrationResult = 'moved' | 'already' | 'elsewhere';

export interface VmPlacements {
  /** VM name -> the host it runs on. */
  hostOf: Map<string, string>;
  /** Host id -> the VMs its own list names. */
  lists: Map<string, string[]>;
}

/** A VM's name fleet-wide (fleetVmName): its id qualified by the host it was registered on, unless it is such a name already. */
export function vmName(homeHostId: string, vmId: string): string {
  return fleetVmName(homeHostId, vmId);
}

export class SimulatedHostNotFoundError extends Error {
  override name = 'SimulatedHostNotFoundError';
  constructor(readonly hostId: string) {
    super(`no simulated host ${JSON.stringify(hostId)} in the store`);
  }
}

/** A stored record that is not a simulated host (corrupt, or written by something else). */
export class SimulatedHostRecordError extends Error {
  override name = 'SimulatedHostRecordError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SimulatedHostRecordError(where, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

export function parseHostRecord(where: string, text: string): SimulatedHostState {
  const v = parseJson(where, text) as Partial<SimulatedHostState> | null;
  if (typeof v !== 'object' || v === null) throw new SimulatedHostRecordError(where, 'not an object');
  for (const field of ['hostId', 'bootId', 'kernelRelease'] as const) {
    if (typeof v[field] !== 'string') throw new SimulatedHostRecordError(where, `field ${field} missing or not text`);
  }
  if (typeof v.version !== 'number') throw new SimulatedHostRecordError(where, 'field version missing or not a number');
  return v as SimulatedHostState;
}

export function parseHostTopology(where: string, text: string): HostTopology {
  const v = parseJson(where, text) as Partial<HostTopology> | null;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.devices)) {
    throw new SimulatedHostRecordError(where, 'topology is not an object with a devices list');
  }
  return v as HostTopology;
}

/** Store for tests and single-process runs; records are kept as JSON so callers never share objects with it. */
export class InMemorySimulatedHostStore implements SimulatedHostStore {
  private readonly records = new Map<string, { state: string; topology: string }>();
  private readonly hostOfVm = new Map<string, string>();

  async load(hostId: string): Promise<SimulatedHostState | null> {
    const r = this.records.get(hostId);
    return r === undefined ? null : parseHostRecord(`simulated host ${hostId}`, r.state);
  }

  peek(hostId: string): Promise<SimulatedHostState | null> {
    return this.load(hostId);
  }

  async loadWithTopology(hostId: string): Promise<SimulatedHostSnapshot | null> {
    const r = this.records.get(hostId);
    if (r === undefined) return null;
    return {
      state: parseHostRecord(`simulated host ${hostId}`, r.state),
      topology: parseHostTopology(`simulated host ${hostId} topology`, r.topology),
    };
  }

  async create(state: SimulatedHostState, topology: HostTopology): Promise<SimulatedHostSnapshot> {
    if (!this.records.has(state.hostId)) {
      this.records.set(state.hostId, { state: JSON.stringify(state), topology: JSON.stringify(topology) });
    }
    return (await this.loadWithTopology(state.hostId))!;
  }

  async update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<void> {
    // Load, apply and store with no await in between: atomic on one event loop.
    const r = this.records.get(hostId);
    if (r === undefined) throw new SimulatedHostNotFoundError(hostId);
    const current = parseHostRecord(`simulated host ${hostId}`, r.state);
    const next = fn(current);
    next.version = current.version + 1;
    r.state = JSON.stringify(next);
  }

  async list(): Promise<string[]> {
    return [...this.records.keys()].sort();
  }

  async placeVms(hostId: string, vmIds: readonly string[]): Promise<void> {
    for (const id of vmIds) if (!this.hostOfVm.has(vmName(hostId, id))) this.hostOfVm.set(vmName(hostId, id), hostId);
  }

  async vmsOn(hostId: string): Promise<string[]> {
    return [...this.hostOfVm].filter(([, host]) => host === hostId).map(([vm]) => vm).sort();
  }

  async migrateVm(name: string, from: string, to: string): Promise<MigrationResult> {
    const at = this.hostOfVm.get(name);
    if (at === to) return 'already';
    if (at !== from) return 'elsewhere';
    this.hostOfVm.set(name, to);
    return 'moved';
  }

  async placements(): Promise<VmPlacements> {
    const lists = new Map<string, string[]>();
    for (const [vm, host] of this.hostOfVm) lists.set(host, [...(lists.get(host) ?? []), vm]);
    return { hostOf: new Map(this.hostOfVm), lists };
  }
}
