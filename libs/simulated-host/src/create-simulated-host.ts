import { z } from 'zod';
import type { Bdf, HostTopology, Vm } from '@luo-fleet/topology';
import { parseFaultPlan, type FaultPlan } from './fault-plan';
import { applyHotplug } from './hotplug';
import type { SeedPart } from './seeded-random';
import { bootIdOf, type SimulatedHostState } from './simulated-host-state';
import type { SimulatedHostSnapshot, SimulatedHostStore } from './simulated-host-store';

export interface SimulatedHostSpec {
  hostId: string;
  seed: SeedPart;
  /** The topology the host was planned with. */
  topology: HostTopology;
  kernelRelease: string;
  luoEnabled?: boolean;
  faults?: FaultPlan;
  /** The VMs it runs, as the inventory has them; the host keeps their ids (SimulatedHostStore.vmsOn). */
  vms?: readonly Vm[];
}

/** Bad input for a simulated host, naming the field. */
export class SimulatedHostInputError extends Error {
  override name = 'SimulatedHostInputError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/**
 * The shape a simulated host relies on, checked in place: a zod object schema would copy every
 * device of every host a rollout registers.
 */
function isTopologyShape(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const { devices, iommuGroups } = v as { devices?: unknown; iommuGroups?: unknown };
  if (!Array.isArray(devices) || !devices.every((d) => typeof d === 'object' && d !== null && typeof (d as { bdf?: unknown }).bdf === 'string')) return false;
  if (typeof iommuGroups !== 'object' || iommuGroups === null || Array.isArray(iommuGroups)) return false;
  return Object.values(iommuGroups).every((g) => Array.isArray(g) && g.every((b) => typeof b === 'string'));
}

const specSchema = z.object({
  // Braces would break the `{hostId}` hash tag of the host's Redis key.
  hostId: z.string().min(1, 'must not be empty').regex(/^[^{}\s]+$/, 'must not contain braces or whitespace'),
  seed: z.union([z.string(), z.number().finite()]),
  topology: z.custom<HostTopology>(isTopologyShape, { message: 'expected {devices: [{bdf, ...}], iommuGroups: {group: [bdf]}}' }),
  kernelRelease: z.string().min(1, 'must not be empty'),
  luoEnabled: z.boolean().optional(),
  faults: z.unknown().optional(),
});

/**
 * Registers a simulated host (idempotent: an existing host is returned untouched, so every worker
 * and the demo may call it). A `hotplugIntoGroupOf` fault is applied here, to the host's own
 * topology and not to the plan: the host's precheck then sees a group that is no longer the one
 * planned. Plan such a host from `spec.topology`, not from the driver's `topology()`.
 */
export async function createSimulatedHost(store: SimulatedHostStore, spec: SimulatedHostSpec): Promise<SimulatedHostState> {
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SimulatedHostInputError(['host', ...issue.path.map(String)].join('.'), issue.message);
  }
  const faults = parseFaultPlan(spec.faults, 'host.faults');
  const state: SimulatedHostState = {
    hostId: spec.hostId,
    seed: spec.seed,
    version: 0,
    bootId: bootIdOf(spec.seed, spec.hostId, 0),
    kernelRelease: spec.kernelRelease,
    previousKernels: [],
    luoEnabled: spec.luoEnabled ?? true,
    hotplugged: [],
    vmsRunning: true,
    stoppedVms: [],
    drained: false,
    vmsPaused: false,
    vmsLost: false,
    kexecLoaded: null,
    session: { open: false, preserved: [] },
    frozen: false,
    down: null,
    incoming: [],
    retrieved: [],
    finished: false,
    faults,
    calls: {},
    history: [],
  };
  // Not copied: the stores keep JSON, and a hot-plug builds a new topology rather than changing this one.
  let topology = spec.topology;
  if (faults.hotplugIntoGroupOf) topology = withHotplug({ state, topology }, faults.hotplugIntoGroupOf);
  const created = (await store.create(state, topology)).state;
  // After the record: a VM placed already (a host created twice, or a VM migrated away since) stays where it is.
  if (spec.vms && spec.vms.length > 0) await store.placeVms(spec.hostId, spec.vms.map((vm) => vm.id));
  return created;
}

/** The new topology; the added device is noted in the host's record. */
function withHotplug({ state, topology }: SimulatedHostSnapshot, intoGroupOf: Bdf): HostTopology {
  const changed = applyHotplug(topology, intoGroupOf);
  state.hotplugged.push(changed.added);
  return changed.topology;
}
