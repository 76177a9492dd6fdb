import type { FleetFaultProfile } from '@luo-fleet/simulated-host';
import { DEMO_SELECTOR } from './simulated-fleet';

export const DEMO_TARGET_KERNEL = '6.18.0-luo';

/**
 * Faults injected into the simulated fleet, on purpose, so the demo shows every outcome: pre-kexec
 * failures roll back, post-kexec ones fail, hot-plugs are caught as drift. Each number is the share
 * of hosts showing that fault (a host gets at most one).
 */
export const DEMO_SIMULATED_FAULTS: FleetFaultProfile = {
  pFailPreKexec: 0.04,
  pFailPostKexec: 0.005,
  pRebootError: 0.01,
  pNeverReturns: 0.005,
  pPanicFallback: 0.005,
  pHotplug: 0.01,
  pRetrieveFails: 0.005,
  pHang: 0, // a hang waits for the step timeout: minutes, too long for a demo
  pFailDrain: 0.01,
  pFailStopVms: 0.01,
  pFailStartVms: 0,
};

/** The body of POST /v1/rollouts for the demo's maintenance window over the whole simulated fleet. */
export function demoRolloutRequest(seed: number) {
  return {
    selector: DEMO_SELECTOR,
    targetKernel: DEMO_TARGET_KERNEL,
    maxConcurrent: 50,
    maxFailures: '10%',
    canary: { batches: [1, 5, '20%'], requireApproval: false },
    maxPerFailureDomain: { key: 'rack', limit: 4 },
    simulatedFaults: DEMO_SIMULATED_FAULTS,
    seed,
  };
}
