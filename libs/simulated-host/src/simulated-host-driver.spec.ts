import { describe, expect, it } from 'vitest';
import { HostUnreachableError, KexecReturnedError, StepFailedError, type StepContext } from '@luo-fleet/handover';
import { createSimulatedHost, SimulatedHostInputError, type SimulatedHostSpec } from './create-simulated-host';
import type { FaultPlan } from './fault-plan';
import { latencyModel } from './latency-model';
import { SimulatedHostDriver } from './simulated-host-driver';
import { bootIdOf } from './simulated-host-state';
import { InMemorySimulatedHostStore } from './simulated-host-store';
import {
  contextFor,
  fakeTime,
  GPU_A,
  GPU_B,
  NEW_KERNEL,
  NIC_PF,
  OLD_KERNEL,
  preservationSetOf,
  twoGpuHost,
} from './test-topology.fixture';

const HOST = 'hv-0001';
const BOOT = { medianMs: 20_000, p99Ms: 60_000 };

async function setUp(faults: FaultPlan = {}, over: Partial<SimulatedHostSpec> = {}) {
  const store = new InMemorySimulatedHostStore();
  const t = fakeTime();
  await createSimulatedHost(store, { hostId: HOST, seed: 7, topology: twoGpuHost(), kernelRelease: OLD_KERNEL, faults, ...over });
  const driver = new SimulatedHostDriver(HOST, store, {
    latency: latencyModel({ scale: 1, bootDelay: BOOT }),
    clock: t.clock,
    sleep: t.sleep,
  });
  const ctx = contextFor(HOST, preservationSetOf([{ bdf: GPU_A, preservable: true }, { bdf: GPU_B, preservable: true }]));
  const host = async () => (await store.load(HOST))!;
  return { store, t, driver, ctx, host };
}

async function throughFreeze(driver: SimulatedHostDriver, ctx: StepContext) {
  await driver.kexecLoad(ctx);
  await driver.preserve(ctx);
  await driver.freeze(ctx);
}

async function rollBack(driver: SimulatedHostDriver, ctx: StepContext) {
  await driver.thaw(ctx);
  await driver.unpreserve(ctx);
  await driver.kexecUnload(ctx);
}

/** Polls identity as await_boot does, until the host answers; returns how long it stayed silent. */
async function waitForBoot(driver: SimulatedHostDriver, t: ReturnType<typeof fakeTime>, limitMs = 10 * 60_000) {
  const start = t.time.now;
  for (;;) {
    try {
      return { identity: await driver.identity(), silentMs: t.time.now - start };
    } catch (err) {
      expect(err).toBeInstanceOf(HostUnreachableError);
      if (t.time.now - start > limitMs) return { identity: undefined, silentMs: t.time.now - start };
      await t.sleep(1_000);
    }
  }
}

describe('SimulatedHostDriver', () => {
  it('goes through a whole Live Update like a real host', async () => {
    const { driver, ctx, host, t } = await setUp();
    const before = await driver.identity();
    expect(before).toEqual({ bootId: bootIdOf(7, HOST, 0), kernelRelease: OLD_KERNEL, luoEnabled: true });
    expect((await driver.topology()).devices.map((d) => d.bdf)).toContain(GPU_A);

    await driver.kexecLoad(ctx);
    expect((await host()).kexecLoaded).toBe(NEW_KERNEL);
    await driver.preserve(ctx);
    expect((await host()).session).toEqual({ open: true, preserved: [GPU_A, GPU_B] });
    await driver.freeze(ctx);
    expect(await host()).toMatchObject({ frozen: true, vmsPaused: true, vmsRunning: true });

    const kexecAt = t.time.now;
    await driver.kexec(ctx);
    const rebooting = await host();
    expect(typeof rebooting.down).toBe('number');
    expect(rebooting.down as number).toBeGreaterThan(kexecAt);
    await expect(driver.identity()).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(driver.topology()).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(driver.retrieve(ctx)).rejects.toBeInstanceOf(HostUnreachableError);

    const { identity } = await waitForBoot(driver, t);
    expect(t.time.now).toBeGreaterThanOrEqual(rebooting.down as number);
    expect(identity).toEqual({ bootId: bootIdOf(7, HOST, 1), kernelRelease: NEW_KERNEL, luoEnabled: true });
    expect(identity!.bootId).not.toBe(before.bootId);
    expect(await driver.incoming(ctx)).toEqual({ incoming: [GPU_A, GPU_B] });
    expect(await host()).toMatchObject({ vmsRunning: false, vmsPaused: true, frozen: false, kexecLoaded: null });

    await driver.retrieve(ctx);
    expect((await host()).retrieved).toEqual([GPU_A, GPU_B]);
    await driver.finish(ctx);
    const after = await host();
    expect(after).toMatchObject({
      kernelRelease: NEW_KERNEL,
      previousKernels: [OLD_KERNEL],
      vmsRunning: true,
      vmsPaused: false,
      vmsLost: false,
      finished: true,
      session: { open: false, preserved: [] },
    });
    expect(after.calls).toEqual({ kexec_load: 1, preserve: 1, freeze: 1, kexec: 1, retrieve: 1, finish: 1 });
    expect(after.history.map((h) => `${h.step}:${h.result}`)).toEqual([
      'kexec_load:ok',
      'preserve:ok',
      'freeze:ok',
      'kexec:ok',
      'retrieve:ok',
      'finish:ok',
    ]);
  });

  it('preserves only the devices the plan found preservable, and again is the same', async () => {
    const { driver, host } = await setUp();
    const ctx = contextFor(HOST, preservationSetOf([{ bdf: GPU_A, preservable: true }, { bdf: NIC_PF, preservable: false }]));
    await driver.preserve(ctx);
    await driver.preserve(ctx);
    expect((await host()).session).toEqual({ open: true, preserved: [GPU_A] });
    expect((await host()).calls.preserve).toBe(2);
  });

  it('refuses kexec without a frozen host or a loaded image, changing nothing', async () => {
    const { driver, ctx, host } = await setUp();
    await driver.kexecLoad(ctx);
    await driver.preserve(ctx);
    await expect(driver.kexec(ctx)).rejects.toThrow(/not frozen/);
    await expect(driver.kexec(ctx)).rejects.toBeInstanceOf(StepFailedError);
    await driver.freeze(ctx);
    await driver.kexecUnload(ctx);
    await expect(driver.kexec(ctx)).rejects.toThrow(/no kernel image/);
    const s = await host();
    expect(s.bootId).toBe(bootIdOf(7, HOST, 0));
    expect(s.kernelRelease).toBe(OLD_KERNEL);
    expect(s.down).toBeNull();
    expect(s.calls.kexec).toBe(3);
    expect(s.history.filter((h) => h.step === 'kexec').map((h) => h.result)).toEqual(['refused', 'refused', 'refused']);
  });

  describe('rollback leaves the host on its old kernel with its VMs running', () => {
    for (const failStep of ['kexec_load', 'preserve', 'freeze'] as const) {
      it(`after ${failStep} failed`, async () => {
        const { driver, ctx, host } = await setUp({ failStep });
        await expect(throughFreeze(driver, ctx)).rejects.toBeInstanceOf(StepFailedError);
        const failed = await host();
        // Half-done work is visible: that is what the rollback must undo.
        if (failStep === 'preserve') expect(failed.session).toEqual({ open: true, preserved: [GPU_A] });
        if (failStep === 'freeze') expect(failed).toMatchObject({ vmsPaused: true, frozen: false });
        if (failStep === 'kexec_load') expect(failed.kexecLoaded).toBeNull();
        await rollBack(driver, ctx);
        await rollBack(driver, ctx); // undo steps are idempotent
        expect(await host()).toMatchObject({
          kernelRelease: OLD_KERNEL,
          bootId: bootIdOf(7, HOST, 0),
          vmsRunning: true,
          vmsPaused: false,
          frozen: false,
          kexecLoaded: null,
          session: { open: false, preserved: [] },
          down: null,
        });
      });
    }

    it('after the reboot syscall returned an error', async () => {
      const { driver, ctx, host } = await setUp({ rebootReturnsError: true });
      await throughFreeze(driver, ctx);
      await expect(driver.kexec(ctx)).rejects.toBeInstanceOf(KexecReturnedError);
      const returned = await host();
      expect(returned).toMatchObject({ bootId: bootIdOf(7, HOST, 0), frozen: true, kexecLoaded: NEW_KERNEL, down: null });
      expect(returned.calls.kexec).toBe(1);
      await rollBack(driver, ctx);
      expect(await host()).toMatchObject({ vmsRunning: true, vmsPaused: false, kexecLoaded: null, kernelRelease: OLD_KERNEL });
    });

    for (const step of ['thaw', 'unpreserve', 'kexec_unload'] as const) {
      it(`reports a failing ${step} and leaves its part undone`, async () => {
        const { driver, ctx, host } = await setUp({ failStep: step });
        await throughFreeze(driver, ctx);
        const undo = { thaw: () => driver.thaw(ctx), unpreserve: () => driver.unpreserve(ctx), kexec_unload: () => driver.kexecUnload(ctx) };
        await expect(undo[step]()).rejects.toBeInstanceOf(StepFailedError);
        const s = await host();
        if (step === 'thaw') expect(s.vmsPaused).toBe(true);
        if (step === 'unpreserve') expect(s.session.preserved).toEqual([GPU_A, GPU_B]);
        if (step === 'kexec_unload') expect(s.kexecLoaded).toBe(NEW_KERNEL);
      });
    }
  });

  describe('faults after the point of no return', () => {
    it('neverReturns: the host stays silent however long one waits', async () => {
      const { driver, ctx, host, t } = await setUp({ neverReturns: true });
      await throughFreeze(driver, ctx);
      await driver.kexec(ctx);
      const { identity, silentMs } = await waitForBoot(driver, t, 20 * 60_000);
      expect(identity).toBeUndefined();
      expect(silentMs).toBeGreaterThan(20 * 60_000);
      expect(await host()).toMatchObject({ down: 'forever', vmsLost: true, vmsRunning: false });
    });

    it('panicFallback: back with a new boot id on the old kernel, nothing incoming, VMs lost', async () => {
      const { driver, ctx, host, t } = await setUp({ panicFallback: true });
      await throughFreeze(driver, ctx);
      await driver.kexec(ctx);
      const { identity } = await waitForBoot(driver, t);
      expect(identity).toEqual({ bootId: bootIdOf(7, HOST, 1), kernelRelease: OLD_KERNEL, luoEnabled: true });
      expect(await driver.incoming(ctx)).toEqual({ incoming: [] });
      expect(await host()).toMatchObject({ vmsLost: true, vmsRunning: false, previousKernels: [] });
      await expect(driver.finish(ctx)).rejects.toBeInstanceOf(StepFailedError);
    });

    it('retrieveFails: retrieve is refused and nothing is retrieved', async () => {
      const { driver, ctx, host, t } = await setUp({ retrieveFails: true });
      await throughFreeze(driver, ctx);
      await driver.kexec(ctx);
      await waitForBoot(driver, t);
      expect(await driver.incoming(ctx)).toEqual({ incoming: [GPU_A, GPU_B] });
      await expect(driver.retrieve(ctx)).rejects.toBeInstanceOf(StepFailedError);
      expect((await host()).retrieved).toEqual([]);
    });

    it('failStep finish: the VMs stay preserved and paused', async () => {
      const { driver, ctx, host, t } = await setUp({ failStep: 'finish' });
      await throughFreeze(driver, ctx);
      await driver.kexec(ctx);
      await waitForBoot(driver, t);
      await driver.retrieve(ctx);
      await expect(driver.finish(ctx)).rejects.toBeInstanceOf(StepFailedError);
      expect(await host()).toMatchObject({ finished: false, vmsRunning: false, kernelRelease: NEW_KERNEL });
    });
  });

  it('hangStep: the call never answers, and is still counted', async () => {
    const { driver, ctx, host } = await setUp({ hangStep: 'preserve' });
    await driver.kexecLoad(ctx);
    let settled = false;
    void driver.preserve(ctx).finally(() => (settled = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    const s = await host();
    expect(s.calls.preserve).toBe(1);
    expect(s.history.at(-1)).toMatchObject({ step: 'preserve', result: 'hung' });
    expect(s.session.preserved).toEqual([]);
  });

  it('hotplug: the host reports a new device in the preserved device’s IOMMU group', async () => {
    const { driver, host } = await setUp({ hotplugIntoGroupOf: GPU_A });
    const topology = await driver.topology();
    const [added] = (await host()).hotplugged;
    expect(added).toBe('0000:3b:00.1');
    expect(topology.iommuGroups['10']).toEqual([GPU_A, added]);
    expect(topology.devices.find((d) => d.bdf === added)).toMatchObject({ iommuGroup: 10, driver: null });
    expect(twoGpuHost().iommuGroups['10']).toEqual([GPU_A]);
  });

  it('reports an unregistered host as unreachable, not as a crash', async () => {
    const { store } = await setUp();
    const ghost = new SimulatedHostDriver('hv-ghost', store, { latencyScale: 0 });
    await expect(ghost.identity()).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(ghost.kexecLoad(contextFor('hv-ghost', preservationSetOf([])))).rejects.toBeInstanceOf(HostUnreachableError);
  });

  it('sleeps the drawn latency per step, scaled, and not at all at scale 0', async () => {
    const a = await setUp();
    await throughFreeze(a.driver, a.ctx);
    expect(a.t.time.slept).toHaveLength(3);
    expect(a.t.time.slept.every((ms) => ms > 0)).toBe(true);

    const store = new InMemorySimulatedHostStore();
    const t = fakeTime();
    await createSimulatedHost(store, { hostId: HOST, seed: 7, topology: twoGpuHost(), kernelRelease: OLD_KERNEL });
    const tenth = new SimulatedHostDriver(HOST, store, { latency: latencyModel({ scale: 0.1, bootDelay: BOOT }), clock: t.clock, sleep: t.sleep });
    await throughFreeze(tenth, a.ctx);
    expect(t.time.slept.map((ms) => ms * 10)).toEqual(a.t.time.slept.map((ms) => expect.closeTo(ms, 6)));

    const t0 = fakeTime();
    await createSimulatedHost(store, { hostId: 'hv-fast', seed: 7, topology: twoGpuHost(), kernelRelease: OLD_KERNEL });
    const fast = new SimulatedHostDriver('hv-fast', store, { latencyScale: 0, clock: t0.clock, sleep: t0.sleep });
    const ctx = contextFor('hv-fast', a.ctx.preservationSet);
    await throughFreeze(fast, ctx);
    await fast.kexec(ctx);
    expect(t0.time.slept).toEqual([]);
    expect((await fast.identity()).kernelRelease).toBe(NEW_KERNEL);
  });

  it('is deterministic per seed: boot ids, latencies and boot delays', async () => {
    async function run(seed: number) {
      const store = new InMemorySimulatedHostStore();
      const t = fakeTime();
      await createSimulatedHost(store, { hostId: HOST, seed, topology: twoGpuHost(), kernelRelease: OLD_KERNEL });
      const driver = new SimulatedHostDriver(HOST, store, { latency: latencyModel({ bootDelay: BOOT }), clock: t.clock, sleep: t.sleep });
      const ctx = contextFor(HOST, preservationSetOf([{ bdf: GPU_A, preservable: true }]));
      await throughFreeze(driver, ctx);
      await driver.kexec(ctx);
      const s = (await store.load(HOST))!;
      return { slept: t.time.slept, bootId: s.bootId, down: (s.down as number) - t.time.now };
    }
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(b).toEqual(a);
    expect(c.bootId).not.toBe(a.bootId);
    expect(c.slept).not.toEqual(a.slept);
    expect(c.down).not.toBe(a.down);
  });

  it('a second driver (another worker) continues the same host where the first left it', async () => {
    const { store, driver, ctx, t } = await setUp();
    await throughFreeze(driver, ctx);
    await driver.kexec(ctx);
    const other = new SimulatedHostDriver(HOST, store, { latency: latencyModel({ bootDelay: BOOT }), clock: t.clock, sleep: t.sleep });
    await expect(other.kexec(ctx)).rejects.toBeInstanceOf(HostUnreachableError);
    await waitForBoot(other, t);
    await expect(other.kexec(ctx)).rejects.toBeInstanceOf(StepFailedError);
    await other.retrieve(ctx);
    await other.finish(ctx);
    const s = (await store.load(HOST))!;
    expect(s.calls.kexec).toBe(2);
    expect(s.history.filter((h) => h.step === 'kexec').map((h) => h.result)).toEqual(['ok', 'refused']);
    expect(s).toMatchObject({ kernelRelease: NEW_KERNEL, vmsRunning: true, finished: true });
  });
});

describe('createSimulatedHost', () => {
  it('does not overwrite a host that exists', async () => {
    const { store, driver, ctx } = await setUp();
    await driver.kexecLoad(ctx);
    const again = await createSimulatedHost(store, { hostId: HOST, seed: 99, topology: twoGpuHost(), kernelRelease: 'other' });
    expect(again).toMatchObject({ seed: 7, kernelRelease: OLD_KERNEL, kexecLoaded: NEW_KERNEL });
  });

  it('names the bad field', async () => {
    const store = new InMemorySimulatedHostStore();
    const base = { hostId: 'hv-1', seed: 1, topology: twoGpuHost(), kernelRelease: OLD_KERNEL };
    await expect(createSimulatedHost(store, { ...base, hostId: 'a{b}' })).rejects.toThrow(/^host\.hostId: .*braces/);
    await expect(createSimulatedHost(store, { ...base, kernelRelease: '' })).rejects.toBeInstanceOf(SimulatedHostInputError);
    const topology = twoGpuHost();
    for (const bad of [
      { ...topology, devices: [...topology.devices, { vendor: 1 }] },
      { ...topology, iommuGroups: { 10: ['0000:3b:00.0', 7] } },
      { devices: topology.devices },
      null,
    ]) {
      await expect(createSimulatedHost(store, { ...base, topology: bad as never }), JSON.stringify(bad)?.slice(0, 80)).rejects.toThrow(/^host\.topology: expected \{devices/);
    }
    await expect(createSimulatedHost(store, { ...base, faults: { failStep: 'reboot' } as never })).rejects.toThrow(
      /^host\.faults\.failStep: /,
    );
    await expect(createSimulatedHost(store, { ...base, faults: { hotplugIntoGroupOf: '0000:99:00.0' } })).rejects.toThrow(
      /no device 0000:99:00.0/,
    );
    expect(await store.list()).toEqual([]);
  });
});
