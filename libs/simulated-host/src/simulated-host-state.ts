import type { Bdf } from '@luo-fleet/topology';
import { HOST_STEPS, VM_STEPS } from '@luo-fleet/handover';
import type { FaultPlan } from './fault-plan';
import { seededUuid, type SeedPart } from './seeded-random';

/** Every driver call the simulated host answers; the mutating ones are counted in `calls`. */
export const SIMULATED_STEPS = ['identity', 'topology', 'incoming', ...HOST_STEPS, ...VM_STEPS] as const;
export type SimulatedStep = (typeof SIMULATED_STEPS)[number];

/** Steps that change the host. Reads (identity, topology, incoming) are not recorded, so polling a booting host costs no writes. */
export const MUTATING_STEPS = [...HOST_STEPS, ...VM_STEPS] as const;
export type MutatingStep = (typeof MUTATING_STEPS)[number];

export interface SimulatedHistoryEntry {
  step: MutatingStep;
  at: number;
  /** ok; failed (StepFailedError); returned (reboot syscall returned); refused (precondition); hung (never answered). */
  result: 'ok' | 'failed' | 'returned' | 'refused' | 'hung';
  detail?: string;
}

/**
 * The simulated host's own record: what the machine itself would say, kept outside any worker
 * process so that a worker killed mid-phase leaves the host exactly where a real one would be, and
 * the next worker (and the tests) find it there. Plain JSON. The host's PCI topology is kept beside
 * it (SimulatedHostStore.loadWithTopology): it is set when the host is created, while this record
 * is read and rewritten on every step.
 */
export interface SimulatedHostState {
  hostId: string;
  seed: SeedPart;
  /** Bumped on every write; the Redis store's compare-and-set works on it. */
  version: number;
  bootId: string;
  kernelRelease: string;
  /** Kernels this host ran before the current one, oldest first. */
  previousKernels: string[];
  luoEnabled: boolean;
  /** Devices hot-plugged into the host (fault injection), already part of its topology. */
  hotplugged: Bdf[];
  /**
   * VMs here that `stop_vms` stopped and `start_vms` has not started again, by id. Where VMs run
   * is kept apart from the record (SimulatedHostStore.vmsOn), so that a migration moves a VM
   * between two hosts in one atomic write.
   */
  stoppedVms?: string[];
  /** Out of service (`drain`) until `undrain`. */
  drained?: boolean;
  /** The VMs' processes exist and their vCPUs may run (false while preserved across kexec, or lost). */
  vmsRunning: boolean;
  /** vCPUs paused (freeze), or guests held in preserved memory across kexec. */
  vmsPaused: boolean;
  /** The guests are gone: the host came back on its old kernel or never came back. */
  vmsLost: boolean;
  /** Target kernel release staged with kexec_load, null when nothing is loaded. */
  kexecLoaded: string | null;
  session: { open: boolean; preserved: Bdf[] };
  frozen: boolean;
  /** Epoch ms until which the host does not answer (booting), 'forever' if it never comes back, null when up. */
  down: number | 'forever' | null;
  /** Devices the previous kernel handed over (set by kexec). */
  incoming: Bdf[];
  retrieved: Bdf[];
  /** The incoming session was finished in this boot. */
  finished: boolean;
  faults: FaultPlan;
  calls: Partial<Record<MutatingStep, number>>;
  /** The last HISTORY_LIMIT mutating calls, oldest first. */
  history: SimulatedHistoryEntry[];
}

export const HISTORY_LIMIT = 64;

/** The boot id of a host's n-th boot (0 = the one it was registered in): the same for the same seed. */
export function bootIdOf(seed: SeedPart, hostId: string, boot: number): string {
  return seededUuid('boot', seed, hostId, boot);
}

export function isDown(state: SimulatedHostState, now: number): boolean {
  return state.down === 'forever' || (state.down !== null && now < state.down);
}

export function recordHistory(state: SimulatedHostState, entry: SimulatedHistoryEntry): void {
  state.history.push(entry);
  if (state.history.length > HISTORY_LIMIT) state.history.splice(0, state.history.length - HISTORY_LIMIT);
}
