import { buildPreservationSet } from '@luo-fleet/preservation';
import { generateFleet, type HostTopology } from '@luo-fleet/topology';
import { vmName, type FleetFaultProfile } from '@luo-fleet/simulated-host';
import type { PlannerApi } from './planner-api';

export const RUNNING_KERNEL = '6.12.0-lts';
export const TARGET_KERNEL = '6.18.0-luo';
export const SELECTOR = 'fleet=chaos';

/**
 * ~5% fail before kexec, ~1% after, and a few never answer (or come back on the old kernel); VM
 * steps fail too: a drain that breaks midway, VMs that do not stop, or do not start again.
 */
export const CHAOS_FAULTS: Partial<FleetFaultProfile> = {
  pFailPreKexec: 0.05,
  pFailPostKexec: 0.01,
  pNeverReturns: 0.004,
  pPanicFallback: 0.003,
  pRebootError: 0.003,
  pFailDrain: 0.01,
  pFailStopVms: 0.01,
  pFailStartVms: 0.003,
};

/**
 * Every strategy, in order of preference: each host gets the first that applies. Evacuation before
 * restarts (a migration keeps a VM running), restarts bounded: every strategy and skip happen.
 */
export const CHAOS_STRATEGIES = ['live-update', 'evacuate', 'live-update-restart'] as const;
export const CHAOS_MAX_VM_RESTARTS = '35%' as const;
/** Share of general-purpose hosts (every VM migratable): those that cannot ride the update are evacuated. */
const GENERAL_PURPOSE = 0.3;
/** VM slots each host has beyond its own VMs: room for evacuated ones. */
const SPARE_SLOTS = 4;

/** What the run itself knows about a host it registered (not what the orchestrator says). */
export interface FleetHost {
  id: string;
  topology: HostTopology;
  /** Devices the default profile preserves; empty when the host is not eligible. */
  preservable: string[];
  eligible: boolean;
  /** Its VMs by fleet-wide name (vmName): each must run exactly once after the rollout. */
  vms: string[];
}

/** Registers a generated fleet through POST /v1/hosts:batch. */
export async function registerFleet(api: PlannerApi, count: number, seed: number): Promise<FleetHost[]> {
  const fleet: FleetHost[] = [];
  let batch: unknown[] = [];
  for (const host of generateFleet(count, seed, { generalPurpose: GENERAL_PURPOSE })) {
    const set = buildPreservationSet(host.topology, undefined);
    fleet.push({
      id: host.hostname,
      topology: host.topology,
      preservable: set.devices.filter((d) => d.preservable).map((d) => d.bdf),
      eligible: set.summary.eligible,
      vms: host.vms.map((vm) => vmName(host.hostname, vm.id)),
    });
    batch.push({
      id: host.hostname,
      labels: { ...host.labels, kernel: RUNNING_KERNEL, fleet: 'chaos' },
      driver: { kind: 'simulated' },
      topology: host.topology,
      vms: host.vms,
      capacity: { slots: host.vms.length + SPARE_SLOTS },
    });
    if (batch.length === 100) {
      await api.call('POST', '/v1/hosts:batch', { hosts: batch });
      batch = [];
    }
  }
  if (batch.length > 0) await api.call('POST', '/v1/hosts:batch', { hosts: batch });
  return fleet;
}

export interface RolloutCreated {
  rollout: { id: string; hostCount: number; limits: { maxConcurrent: number; maxFailures: number; batches: number[] } };
  plan: { eligible: number; skipped: number };
}

/** POST /v1/rollouts over the whole chaos fleet, faults drawn from `seed`. */
export function createChaosRollout(api: PlannerApi, opts: { seed: number; maxConcurrent: number; maxFailures: number | string }): Promise<RolloutCreated> {
  return api.call('POST', '/v1/rollouts', {
    selector: SELECTOR,
    targetKernel: TARGET_KERNEL,
    maxConcurrent: opts.maxConcurrent,
    maxFailures: opts.maxFailures,
    // A small canary first, then everything: exercises a batch boundary without waiting for approval.
    canary: { batches: [5], requireApproval: false },
    strategies: [...CHAOS_STRATEGIES],
    maxVmRestarts: CHAOS_MAX_VM_RESTARTS,
    simulatedFaults: CHAOS_FAULTS,
    seed: opts.seed,
  });
}
