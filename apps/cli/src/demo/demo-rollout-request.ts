import type { FleetFaultProfile } from '@luo-fleet/simulated-host';
import { DEMO_SELECTOR } from './simulated-fleet';

export const DEMO_TARGET_KERNEL = '6.18.0-luo';

/**
 * Faults injected into the simulated fleet, on purpose, so the demo shows rollback of every
 * strategy: pre-kexec failures (a Live Update's steps, a drain that breaks midway, VMs that do not
 * stop) roll back, a reboot that returns rolls back, hot-plugs are caught as drift. Each number is
 * the share of hosts showing that fault (a host gets at most one).
 *
 * Faults after the kexec are left out: on a host whose VMs ride a Live Update they lose the VMs
 * (held in preserved memory that nothing resumes), and the demo shows a fleet updated without
 * losing one. They are exercised by `npm run chaos` and the tests, where `lost` counts them.
 */
export const DEMO_SIMULATED_FAULTS: FleetFaultProfile = {
  pFailPreKexec: 0.04,
  pFailPostKexec: 0,
  pRebootError: 0.01,
  pNeverReturns: 0,
  pPanicFallback: 0,
  pHotplug: 0.01,
  pRetrieveFails: 0,
  pHang: 0, // a hang waits for the step timeout: minutes, too long for a demo
  pFailDrain: 0.02,
  pFailStopVms: 0.02,
  pFailStartVms: 0,
};

/**
 * Every strategy, in order of preference: the least disruption that applies to each host. A
 * live migration keeps a VM running, a restart does not: a host whose VMs cannot all ride the
 * update is evacuated when all of them can move, and restarts the others only when it cannot.
 */
export const DEMO_STRATEGIES = ['live-update', 'evacuate', 'live-update-restart'] as const;
/** At most this share of the fleet's VMs restarted: the hosts past it, that cannot be evacuated either, are skipped. */
export const DEMO_MAX_VM_RESTARTS = '35%' as const;

/** The body of POST /v1/rollouts for the demo's maintenance window over the whole simulated fleet. */
export function demoRolloutRequest(seed: number) {
  return {
    selector: DEMO_SELECTOR,
    targetKernel: DEMO_TARGET_KERNEL,
    maxConcurrent: 50,
    maxFailures: '10%',
    canary: { batches: [1, 5, '20%'], requireApproval: false },
    maxPerFailureDomain: { key: 'rack', limit: 4 },
    strategies: [...DEMO_STRATEGIES],
    maxVmRestarts: DEMO_MAX_VM_RESTARTS,
    simulatedFaults: DEMO_SIMULATED_FAULTS,
    seed,
  };
}
