import { describe, expect, it } from 'vitest';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { runHandover } from '@luo-fleet/handover';
import { buildHandoverPlan } from '@luo-fleet/handover';
import { InMemoryHandoverJournal } from '@luo-fleet/handover';
import { createSimulatedHost } from './create-simulated-host';
import type { FaultPlan } from './fault-plan';
import { latencyModel } from './latency-model';
import { SimulatedHostDriver } from './simulated-host-driver';
import { InMemorySimulatedHostStore } from './simulated-host-store';
import { fakeTime, GPU_A, GPU_B, NEW_KERNEL, OLD_KERNEL, twoGpuHost } from './test-topology.fixture';

/** The simulated host driven by the real phase machine: each fault must end in the outcome design 4.2 gives it. */
async function handover(faults: FaultPlan) {
  const store = new InMemorySimulatedHostStore();
  const t = fakeTime();
  const planned = twoGpuHost();
  await createSimulatedHost(store, { hostId: 'hv-1', seed: 3, topology: planned, kernelRelease: OLD_KERNEL, faults });
  const driver = new SimulatedHostDriver('hv-1', store, {
    latency: latencyModel({ scale: 1, bootDelay: { medianMs: 30_000, p99Ms: 90_000 } }),
    clock: t.clock,
    sleep: t.sleep,
  });
  const plan = buildHandoverPlan({
    hostId: 'hv-1',
    rolloutId: 'r1',
    targetKernel: NEW_KERNEL,
    topology: planned,
    preservationSet: buildPreservationSet(planned, [GPU_A, GPU_B]),
  });
  const outcome = await runHandover(driver, new InMemoryHandoverJournal(), plan, {
    clock: t.clock,
    sleep: t.sleep,
    bootPollMs: 2_000,
    bootTimeoutMs: 15 * 60_000,
    sameBootGraceMs: 30_000,
    stepTimeoutMs: 200, // real milliseconds: only a hung step ever gets near it
  });
  return { outcome, host: (await store.load('hv-1'))! };
}

const healthyOldHost = {
  kernelRelease: OLD_KERNEL,
  vmsRunning: true,
  vmsPaused: false,
  frozen: false,
  kexecLoaded: null,
  session: { open: false, preserved: [] },
};

describe('SimulatedHostDriver under the handover machine', () => {
  it('a healthy host is updated, with kexec issued once', async () => {
    const { outcome, host } = await handover({});
    expect(outcome).toMatchObject({ outcome: 'updated', kernelRelease: NEW_KERNEL, bootId: host.bootId });
    expect(host).toMatchObject({ kernelRelease: NEW_KERNEL, vmsRunning: true, finished: true, retrieved: [GPU_A, GPU_B] });
    expect(host.calls.kexec).toBe(1);
  });

  it.each([
    [{ failStep: 'preserve' }, 'preserve'],
    [{ failStep: 'freeze' }, 'freeze'],
    [{ rebootReturnsError: true }, 'kexec'],
    [{ hangStep: 'freeze' }, 'freeze'],
  ] as const)('%o is rolled back at %s and the host is healthy on its old kernel', async (faults, phase) => {
    const { outcome, host } = await handover(faults);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase });
    expect(host).toMatchObject(healthyOldHost);
  });

  it('a device hot-plugged into a preserved group stops the update at precheck, before any step', async () => {
    const { outcome, host } = await handover({ hotplugIntoGroupOf: GPU_A });
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'precheck' });
    expect(outcome.reasons).toContain('TOPOLOGY_DRIFT');
    expect(host.calls).toEqual({});
  });

  it.each([
    [{ neverReturns: true }, 'await_boot', ['HOST_UNREACHABLE']],
    [{ panicFallback: true }, 'await_boot', []],
    [{ retrieveFails: true }, 'retrieve', []],
    [{ failStep: 'finish' }, 'finish', []],
  ] as const)('%o fails at %s with nothing rolled back', async (faults, phase, reasons) => {
    const { outcome, host } = await handover(faults);
    expect(outcome).toMatchObject({ outcome: 'failed', phase, reasons });
    expect(host.calls.kexec).toBe(1);
    expect(host.calls.thaw).toBeUndefined();
  });
});
