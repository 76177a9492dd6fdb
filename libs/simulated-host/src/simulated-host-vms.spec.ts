import { describe, expect, it } from 'vitest';
import { DrainBrokenError, type StepContext } from '@luo-fleet/handover';
import type { Vm } from '@luo-fleet/topology';
import { createSimulatedHost } from './create-simulated-host';
import type { FaultPlan } from './fault-plan';
import { SimulatedHostDriver } from './simulated-host-driver';
import { InMemorySimulatedHostStore, vmName } from './simulated-host-store';
import { contextFor, NEW_KERNEL, OLD_KERNEL, preservationSetOf, twoGpuHost } from './test-topology.fixture';

const vm = (id: string): Vm => ({ id, devices: [], memory: { backing: 'memfd-shmem', sizeMiB: 1024 }, balloon: false, virtioMem: false, migratable: true });

async function fleetOf(faults: FaultPlan = {}) {
  const store = new InMemorySimulatedHostStore();
  const spec = (hostId: string, vms: Vm[], f: FaultPlan = {}) => ({ hostId, seed: 3, topology: twoGpuHost(), kernelRelease: OLD_KERNEL, vms, faults: f });
  await createSimulatedHost(store, spec('hv-1', [vm('vm-a'), vm('vm-b'), vm('vm-c'), vm('vm-d')], faults));
  await createSimulatedHost(store, spec('hv-2', [vm('vm-a')]));
  await createSimulatedHost(store, spec('hv-3', []));
  const driver = new SimulatedHostDriver('hv-1', store, { latencyScale: 0 });
  const base = contextFor('hv-1', preservationSetOf([]));
  return { store, driver, base };
}

const MIGRATIONS = [
  { vmId: 'vm-a', targetHostId: 'hv-2' },
  { vmId: 'vm-b', targetHostId: 'hv-3' },
  { vmId: 'vm-c', targetHostId: 'hv-2' },
  { vmId: 'vm-d', targetHostId: 'hv-3' },
];

function evacuation(base: StepContext): StepContext {
  return { ...base, strategy: 'evacuate', migrations: MIGRATIONS };
}

describe('simulated host: VM steps', () => {
  it('keeps VMs of equal ids on different hosts apart (names carry the host they were registered on)', async () => {
    const { store } = await fleetOf();
    expect(await store.vmsOn('hv-1')).toEqual(['hv-1/vm-a', 'hv-1/vm-b', 'hv-1/vm-c', 'hv-1/vm-d']);
    expect(await store.vmsOn('hv-2')).toEqual(['hv-2/vm-a']);
  });

  it('drain moves every VM to its target, once, even when resent; then an empty host kexecs and returns to service', async () => {
    const { store, driver, base } = await fleetOf();
    const ctx = evacuation(base);
    await driver.drain(ctx);
    await driver.drain(ctx); // a resent step (the worker died before journaling its end)
    expect(await store.vmsOn('hv-1')).toEqual([]);
    expect(await store.vmsOn('hv-2')).toEqual(['hv-1/vm-a', 'hv-1/vm-c', 'hv-2/vm-a']);
    expect(await store.vmsOn('hv-3')).toEqual(['hv-1/vm-b', 'hv-1/vm-d']);
    const { hostOf } = await store.placements();
    expect(hostOf.size).toBe(5);
    await driver.kexecLoad(ctx);
    await driver.kexec(ctx);
    const after = (await store.load('hv-1'))!;
    expect(after).toMatchObject({ drained: true, vmsRunning: true, vmsLost: false });
    expect(after.kernelRelease).toBe(NEW_KERNEL);
  });

  it('refuses to kexec an evacuated host that still runs VMs', async () => {
    const { driver, base } = await fleetOf({ failStep: 'drain' });
    const ctx = evacuation(base);
    await expect(driver.drain(ctx)).rejects.toThrow(/broke after moving 2 of 4/);
    await driver.kexecLoad(ctx);
    await expect(driver.kexec(ctx)).rejects.toThrow(/not drained \(2 VMs still here\)/);
  });

  it('a drain fault moves half the VMs; undrain returns the host to service and leaves them where they went', async () => {
    const { store, driver, base } = await fleetOf({ failStep: 'drain' });
    const ctx = evacuation(base);
    const err = await driver.drain(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrainBrokenError);
    // It names the VMs it moved, and a resent drain (a worker killed after the move) names them again.
    expect((err as DrainBrokenError).migrated).toEqual(['vm-a', 'vm-b']);
    expect(((await driver.drain(ctx).catch((e: unknown) => e)) as DrainBrokenError).migrated).toEqual(['vm-a', 'vm-b']);
    expect(await store.vmsOn('hv-1')).toEqual(['hv-1/vm-c', 'hv-1/vm-d']);
    await driver.undrain(ctx);
    expect((await store.load('hv-1'))!.drained).toBe(false);
    expect(await store.vmsOn('hv-2')).toEqual(['hv-1/vm-a', 'hv-2/vm-a']);
  });

  it('a VM migrated before keeps its fleet-wide name when it moves again', async () => {
    const { store, driver, base } = await fleetOf();
    await driver.drain({ ...base, strategy: 'evacuate', migrations: [{ vmId: 'vm-a', targetHostId: 'hv-2' }] });
    // The inventory lists it on hv-2 as hv-1/vm-a: a drain of hv-2 moves that VM, not hv-2's own vm-a.
    const hv2 = new SimulatedHostDriver('hv-2', store, { latencyScale: 0 });
    await hv2.drain({ ...contextFor('hv-2', preservationSetOf([])), strategy: 'evacuate', migrations: [{ vmId: 'hv-1/vm-a', targetHostId: 'hv-3' }] });
    expect(await store.vmsOn('hv-2')).toEqual(['hv-2/vm-a']);
    expect(await store.vmsOn('hv-3')).toEqual(['hv-1/vm-a']);
  });

  it('a migration to a host that does not exist fails the drain and moves nothing there', async () => {
    const { store, driver, base } = await fleetOf();
    await expect(driver.drain({ ...base, strategy: 'evacuate', migrations: [{ vmId: 'vm-a', targetHostId: 'nowhere' }] })).rejects.toThrow(/no host nowhere/);
    expect(await store.vmsOn('hv-1')).toContain(vmName('hv-1', 'vm-a'));
  });

  it('stop_vms stops the plan VMs, start_vms starts them again; a stop fault stops half', async () => {
    const ok = await fleetOf();
    const ctx = { ...ok.base, strategy: 'live-update-restart' as const, restartVms: ['vm-b', 'vm-c'] };
    await ok.driver.stopVms(ctx);
    expect((await ok.store.load('hv-1'))!.stoppedVms).toEqual(['vm-b', 'vm-c']);
    await ok.driver.startVms(ctx);
    await ok.driver.startVms(ctx);
    expect((await ok.store.load('hv-1'))!.stoppedVms).toEqual([]);

    const faulty = await fleetOf({ failStep: 'stop_vms' });
    await expect(faulty.driver.stopVms(ctx)).rejects.toThrow(/stopping 1 of 2/);
    expect((await faulty.store.load('hv-1'))!.stoppedVms).toEqual(['vm-b']);
    await faulty.driver.startVms(ctx);
    expect((await faulty.store.load('hv-1'))!.stoppedVms).toEqual([]);
  });

  it('a start_vms fault changes nothing', async () => {
    const { store, driver, base } = await fleetOf({ failStep: 'start_vms' });
    const ctx = { ...base, strategy: 'live-update-restart' as const, restartVms: ['vm-b'] };
    await driver.stopVms(ctx);
    await expect(driver.startVms(ctx)).rejects.toThrow(/could not start/);
    expect((await store.load('hv-1'))!.stoppedVms).toEqual(['vm-b']);
  });
});
