import { createSimulatedHost, drawFaultPlan, parseFleetFaultProfile, type SimulatedHostStore } from '@luo-fleet/simulated-host';
import { labelValue } from '@luo-fleet/store';
import type { HostRegistrationStep } from './rollout-creation';

/** Registered this many at a time: their round trips overlap instead of queueing behind each other. */
const SIMULATED_HOSTS_AT_ONCE = 1_000;
/** The kernel a simulated host runs before its first update, unless its inventory label `kernel` names one. */
const SIMULATED_KERNEL = '6.12.0-lts';

/**
 * The simulated driver's step of a rollout's creation: each planned host gets a simulated host in
 * `store` for the workers to drive: Live Update on unless the inventory says it is off, and faults
 * drawn from the rollout's `simulatedFaults` (checked by the request schema) and its seed, so a demo
 * or chaos run is repeatable.
 */
export function simulatedHostRegistration(store: SimulatedHostStore): HostRegistrationStep {
  return async (rollout, planned, opts) => {
    const faults = rollout.spec.simulatedFaults ? parseFleetFaultProfile(rollout.spec.simulatedFaults, 'simulatedFaults') : undefined;
    const seed = opts.seed ?? 1;
    for (let i = 0; i < planned.length; i += SIMULATED_HOSTS_AT_ONCE) {
      await Promise.all(
        planned.slice(i, i + SIMULATED_HOSTS_AT_ONCE).map(({ host, topology, set }) => {
          const preservable = set.devices.filter((d) => d.preservable).map((d) => d.bdf);
          return createSimulatedHost(store, {
            hostId: host.id,
            seed,
            topology,
            kernelRelease: labelValue(host.labels, 'kernel') ?? SIMULATED_KERNEL,
            vms: host.vms,
            ...(host.luoEnabled !== undefined ? { luoEnabled: host.luoEnabled } : {}),
            faults: faults ? drawFaultPlan(faults, seed, host.id, topology, preservable) : undefined,
          });
        }),
      );
    }
  };
}
