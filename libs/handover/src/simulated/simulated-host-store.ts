import type { SimulatedHostState } from './simulated-host-state';

/**
 * Where simulated hosts keep their own records, outside any worker process. `update` is atomic per
 * host: a stale worker and the one that took over may touch a host at the same moment.
 */
export interface SimulatedHostStore {
  load(hostId: string): Promise<SimulatedHostState | null>;
  /** Writes the record as given (creates or overwrites). */
  save(state: SimulatedHostState): Promise<void>;
  /** Stores `state` unless the host exists; returns what is stored afterwards. */
  create(state: SimulatedHostState): Promise<SimulatedHostState>;
  /**
   * Applies `fn` to the current record and stores the result with `version` bumped. `fn` gets a
   * private copy it may change, and may run more than once (when another writer got in first), so
   * it must not have other effects. Throws SimulatedHostNotFoundError for an unknown host.
   */
  update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<SimulatedHostState>;
  /** Ids of every host in the store. */
  list(): Promise<string[]>;
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

export function parseHostRecord(where: string, text: string): SimulatedHostState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SimulatedHostRecordError(where, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const v = value as Partial<SimulatedHostState> | null;
  if (typeof v !== 'object' || v === null) throw new SimulatedHostRecordError(where, 'not an object');
  for (const field of ['hostId', 'bootId', 'kernelRelease'] as const) {
    if (typeof v[field] !== 'string') throw new SimulatedHostRecordError(where, `field ${field} missing or not text`);
  }
  if (typeof v.version !== 'number') throw new SimulatedHostRecordError(where, 'field version missing or not a number');
  if (typeof v.topology !== 'object' || v.topology === null || !Array.isArray(v.topology.devices)) {
    throw new SimulatedHostRecordError(where, 'field topology missing or has no devices list');
  }
  return v as SimulatedHostState;
}

/** Store for tests and single-process runs; records are kept as JSON so callers never share objects with it. */
export class InMemorySimulatedHostStore implements SimulatedHostStore {
  private readonly records = new Map<string, string>();

  async load(hostId: string): Promise<SimulatedHostState | null> {
    const text = this.records.get(hostId);
    return text === undefined ? null : parseHostRecord(`simulated host ${hostId}`, text);
  }

  async save(state: SimulatedHostState): Promise<void> {
    this.records.set(state.hostId, JSON.stringify(state));
  }

  async create(state: SimulatedHostState): Promise<SimulatedHostState> {
    if (!this.records.has(state.hostId)) this.records.set(state.hostId, JSON.stringify(state));
    return (await this.load(state.hostId))!;
  }

  async update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<SimulatedHostState> {
    // Load, apply and store with no await in between: atomic on one event loop.
    const text = this.records.get(hostId);
    if (text === undefined) throw new SimulatedHostNotFoundError(hostId);
    const current = parseHostRecord(`simulated host ${hostId}`, text);
    const next = fn(current);
    next.version = current.version + 1;
    this.records.set(hostId, JSON.stringify(next));
    return JSON.parse(this.records.get(hostId)!) as SimulatedHostState;
  }

  async list(): Promise<string[]> {
    return [...this.records.keys()].sort();
  }
}
