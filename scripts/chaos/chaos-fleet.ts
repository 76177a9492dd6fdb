import { buildPreservationSet } from '@luo-fleet/preservation';
import { generateFleet, type HostTopology } from '@luo-fleet/topology';
import type { FleetFaultProfile } from '@luo-fleet/simulated-host';
import type { PlannerApi } from './planner-api';

export const RUNNING_KERNEL = '6.12.0-lts';
export const TARGET_KERNEL = '6.18.0-luo';
export const SELECTOR = 'fleet=chaos';

/** ~5% fail before kexec, ~1% after, and a few never answer (or come back on the old kernel). */
export const CHAOS_FAULTS: Partial<FleetFaultProfile> = {
  pFailPreKexec: 0.05,
  pFailPostKexec: 0.01,
  pNeverReturns: 0.004,
  pPanicFallback: 0.003,
  pRebootError: 0.003,
};

/** What the run itself knows about a host it registered (not what the orchestrator says). */
export interface FleetHost {
  id: string;
  topology: HostTopology;
  /** Devices the default profile preserves; empty when the host is not eligible. */
  preservable: string[];
  eligible: boolean;
}

/** Registers a generated fleet through POST /v1/hosts:batch. */
export async function registerFleet(api: PlannerApi, count: number, seed: number): Promise<FleetHost[]> {
  const fleet: FleetHost[] = [];
  let batch: unknown[] = [];
  for (const host of generateFleet(count, seed)) {
    const set = buildPreservationSet(host.topology, undefined);
    fleet.push({
      id: host.hostname,
      topology: host.topology,
      preservable: set.devices.filter((d) => d.preservable).map((d) => d.bdf),
      eligible: set.summary.eligible,
    });
    batch.push({ id: host.hostname, labels: { ...host.labels, kernel: RUNNING_KERNEL, fleet: 'chaos' }, driver: { kind: 'simulated' }, topology: host.topology });
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
    simulatedFaults: CHAOS_FAULTS,
    seed: opts.seed,
  });
}
