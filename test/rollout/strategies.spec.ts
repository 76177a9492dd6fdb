import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vm } from '@luo-fleet/topology';
import { createSimulatedHost, vmName, type FaultPlan } from '@luo-fleet/simulated-host';
import { redisNamespace, type RedisNamespace } from '../support/redis-namespace';
import { eligibleGpuHostTopology } from '../support/eligible-host';
import { RolloutHarness, TARGET } from './rollout-harness';

/** Whole-fleet rollouts (design 4.6) driven by real worker processes against the real Redis. */
describe('rollouts with strategies', () => {
  let ns: RedisNamespace;
  let h: RolloutHarness;

  beforeAll(() => {
    ns = redisNamespace('strategies');
    h = new RolloutHarness(ns);
    h.startWorkers(2);
  });

  afterAll(async () => {
    await h.close();
    await ns.drop();
  });

  const vm = (id: string, backing: Vm['memory']['backing'] = 'memfd-shmem'): Vm => ({
    id,
    devices: [],
    memory: { backing, sizeMiB: 2048 },
    balloon: false,
    virtioMem: false,
    migratable: true,
  });

  /**
   * Hosts of three kinds: `lu` (every VM preservable), `lur` (one hugetlb VM: restarted) and `ev`
   * (four hugetlb VMs: more restarts than the whole budget, so evacuated). `slots` VM slots each.
   */
  async function mixedFleet(fleet: string, counts: { lu: number; lur: number; ev: number }, slots: (vms: number) => number, faults: Record<string, FaultPlan> = {}) {
    const hosts = [];
    const vmsOf = new Map<string, Vm[]>();
    let n = 0;
    for (const [kind, count] of Object.entries(counts)) {
      for (let i = 0; i < count; i++, n++) {
        const id = `${fleet}-${kind}-${i}`;
        const vms = kind === 'lu' ? [vm('vm-0'), vm('vm-1')] : kind === 'lur' ? [vm('vm-0'), vm('vm-1', 'memfd-hugetlb')] : ['vm-0', 'vm-1', 'vm-2', 'vm-3'].map((id) => vm(id, 'memfd-hugetlb'));
        vmsOf.set(id, vms);
        const topology = eligibleGpuHostTopology();
        hosts.push({ id, labels: { fleet, rack: `${fleet}-rack-${n % 2}`, zone: 'zone-1' }, driver: { kind: 'simulated' as const }, topology, vms, capacity: { slots: slots(vms.length) } });
        if (faults[id]) await createSimulatedHost(h.simulated, { hostId: id, seed: 1, topology, kernelRelease: '6.12.0-lts', faults: faults[id], vms });
      }
    }
    await h.inventory.putMany(hosts);
    return vmsOf;
  }

  /** Every VM that existed before runs on exactly one host after (none lost, none duplicated, none left stopped). */
  async function conservationProblems(vmsOf: Map<string, Vm[]>): Promise<string[]> {
    const { hostOf, lists } = await h.simulated.placements();
    const problems: string[] = [];
    const listedOn = new Map<string, string[]>();
    for (const [host, names] of lists) for (const name of names) listedOn.set(name, [...(listedOn.get(name) ?? []), host]);
    for (const [home, vms] of vmsOf) {
      for (const v of vms) {
        const name = vmName(home, v.id);
        const at = hostOf.get(name);
        if (at === undefined) problems.push(`${name}: on no host`);
        else if (JSON.stringify(listedOn.get(name)) !== JSON.stringify([at])) problems.push(`${name}: listed on ${listedOn.get(name)?.join(',')}, runs on ${at}`);
        else {
          const rec = await h.simulated.load(at);
          if (!rec || rec.vmsLost || !rec.vmsRunning || (at === home && rec.stoppedVms?.includes(v.id))) problems.push(`${name}: not running on ${at}`);
        }
      }
    }
    return problems;
  }

  /**
   * The inventory lists every VM on the host it runs on (by the simulated fleet), exactly once: a
   * migrated one under its fleet-wide name on its new host.
   */
  async function inventoryProblems(vmsOf: Map<string, Vm[]>): Promise<string[]> {
    const { hostOf } = await h.simulated.placements();
    const listed = new Map<string, string[]>();
    // The whole inventory: VMs go to hosts of other fleets too.
    for await (const chunk of h.inventory.scan([])) {
      for (const host of chunk) for (const v of host.vms) listed.set(vmName(host.id, v.id), [...(listed.get(vmName(host.id, v.id)) ?? []), host.id]);
    }
    const problems: string[] = [];
    for (const [home, vms] of vmsOf) {
      for (const v of vms) {
        const name = vmName(home, v.id);
        if (JSON.stringify(listed.get(name)) !== JSON.stringify([hostOf.get(name)])) problems.push(`${name}: runs on ${hostOf.get(name)}, inventory lists it on ${listed.get(name)?.join(',') ?? 'none'}`);
      }
    }
    return problems;
  }

  /** Hosts whose inventory lists more VMs than their slots. */
  async function overbookedInInventory(hosts: Iterable<string>): Promise<string[]> {
    const out: string[] = [];
    for (const id of hosts) {
      const host = (await h.inventory.get(id))!;
      if (host.capacity && 'slots' in host.capacity && host.vms.length > host.capacity.slots) out.push(`${id}: ${host.vms.length} VMs, ${host.capacity.slots} slots`);
    }
    return out;
  }

  it('updates every host by the first strategy that applies, and every VM runs exactly once after', async () => {
    const vmsOf = await mixedFleet('mix', { lu: 4, lur: 3, ev: 2 }, (vms) => vms + 2);
    const { rollout, plan } = await h.create({
      selector: 'fleet=mix',
      strategies: ['live-update', 'live-update-restart', 'evacuate'],
      maxVmRestarts: 3,
      maxConcurrent: 4,
    });
    expect(plan.strategies?.byStrategy).toEqual({
      'live-update': { hosts: 4, vms: 8 },
      'live-update-restart': { hosts: 3, vms: 6 },
      evacuate: { hosts: 2, vms: 8 },
    });
    expect(plan.strategies?.disruption).toEqual({ preserved: 11, restarted: 3, migrated: 8 });
    expect(plan.strategies?.passedOver['live-update-restart']).toEqual({ RESTART_BUDGET: 2 });

    // Sampled while it runs: no host ever holds more VMs than its slots.
    let overbooked: string[] = [];
    for (;;) {
      const { lists } = await h.simulated.placements();
      for (const [host, names] of lists) if (host.startsWith('mix-') && names.length > vmsOf.get(host)!.length + 2) overbooked.push(`${host}: ${names.length}`);
      const v = await h.view(rollout.id);
      if (v.finishedAt !== undefined) break;
      await new Promise((r) => setTimeout(r, 30));
    }
    overbooked = [...new Set(overbooked)];
    expect(overbooked).toEqual([]);
    const view = await h.view(rollout.id);
    expect(view.status).toBe('completed');
    expect(view.hostsByState).toEqual({ updated: 9 });
    for (const host of vmsOf.keys()) expect((await h.simulated.load(host))?.kernelRelease).toBe(TARGET);
    expect(await conservationProblems(vmsOf)).toEqual([]);
    // Evacuated hosts sent all their own VMs away, each to a host already on the target kernel.
    const { hostOf } = await h.simulated.placements();
    for (const host of ['mix-ev-0', 'mix-ev-1']) {
      expect((await h.simulated.vmsOn(host)).filter((name) => name.startsWith(`${host}/`))).toEqual([]);
      for (const v of vmsOf.get(host)!) expect((await h.simulated.load(hostOf.get(vmName(host, v.id))!))?.kernelRelease).toBe(TARGET);
    }
    // Within capacity by the inventory too, and no room left held.
    expect(await overbookedInInventory(vmsOf.keys())).toEqual([]);
    expect(await ns.redis.hlen(h.keys.evacuationReserved())).toBe(0);
    // The inventory followed the migrations: the next plan has the evacuated hosts empty and their VMs where they went.
    expect(await inventoryProblems(vmsOf)).toEqual([]);
    const next = await h.create({ selector: 'fleet=mix', strategies: ['live-update', 'live-update-restart', 'evacuate'], maxVmRestarts: 3, dryRun: true });
    expect(next.plan.vms.total).toBe(22);
  });

  it('a host whose VMs have nowhere to go waits, then ends skipped NO_CAPACITY at the cutoff', async () => {
    // Every host of its racks is full: no slot to spare there (other fleets' hosts are in other racks).
    const vmsOf = await mixedFleet('full', { lu: 2, lur: 0, ev: 1 }, (vms) => vms);
    const now = Date.now();
    const { rollout } = await h.create({
      selector: 'fleet=full',
      strategies: ['live-update', 'evacuate'],
      evacuation: { sameDomain: true },
      window: { startAt: now, endAt: now + 60_000, cutoffAt: now + 2_500 },
    });
    let sawWaiting = false;
    for (;;) {
      const states = await h.states(rollout.id);
      if (states['full-ev-0'] === 'waiting_capacity') sawWaiting = true;
      const v = await h.view(rollout.id);
      if (v.finishedAt !== undefined) break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(sawWaiting, JSON.stringify(await h.rollouts.hosts(rollout.id, {}))).toBe(true);
    const [result] = (await h.rollouts.hosts(rollout.id, { state: 'skipped' })).hosts;
    expect(result).toMatchObject({ hostId: 'full-ev-0', outcome: 'skipped', reasons: ['NO_CAPACITY'] });
    expect((await h.view(rollout.id)).hostsByState).toEqual({ updated: 2, skipped: 1 });
    expect(await conservationProblems(vmsOf)).toEqual([]);
  });

  it('evacuates to inventory hosts outside the rollout, and two rollouts at once never overbook the one they share', async () => {
    // Two fleets whose own hosts are full, in one rack with a spare host that is in neither rollout:
    // room for 6 VMs, while each fleet evacuates 4.
    const a = await mixedFleet('two-a', { lu: 1, lur: 0, ev: 1 }, (vms) => vms);
    const b = await mixedFleet('two-b', { lu: 1, lur: 0, ev: 1 }, (vms) => vms);
    const rack = { rack: 'shared', zone: 'zone-1' };
    for (const id of ['two-a-ev-0', 'two-b-ev-0']) {
      const host = (await h.inventory.get(id))!;
      await h.inventory.put({ ...host, labels: { ...host.labels, ...rack } });
    }
    const topology = eligibleGpuHostTopology();
    await h.inventory.put({ id: 'two-spare', labels: { fleet: 'spare', ...rack }, driver: { kind: 'simulated' }, topology, vms: [], capacity: { slots: 6 } });
    await createSimulatedHost(h.simulated, { hostId: 'two-spare', seed: 1, topology, kernelRelease: '6.12.0-lts' });
    const now = Date.now();
    const spec = (fleet: string) => ({
      selector: `fleet=${fleet}`,
      strategies: ['live-update' as const, 'evacuate' as const],
      evacuation: { sameDomain: true },
      window: { startAt: now, endAt: now + 60_000, cutoffAt: now + 6_000 },
    });
    const [ra, rb] = await Promise.all([h.create(spec('two-a')), h.create(spec('two-b'))]);
    let overbooked: string[] = [];
    for (;;) {
      const { lists } = await h.simulated.placements();
      if ((lists.get('two-spare')?.length ?? 0) > 6) overbooked.push(`two-spare: ${lists.get('two-spare')!.length}`);
      const done = await Promise.all([h.view(ra.rollout.id), h.view(rb.rollout.id)]);
      if (done.every((v) => v.finishedAt !== undefined)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    overbooked = [...new Set(overbooked)];
    expect(overbooked).toEqual([]);
    const vmsOf = new Map([...a, ...b]);
    expect(await conservationProblems(vmsOf)).toEqual([]);
    expect(await inventoryProblems(vmsOf)).toEqual([]);
    expect(await overbookedInInventory([...vmsOf.keys(), 'two-spare'])).toEqual([]);
    // The first evacuation went to the spare host, outside both rollouts; the second found room
    // there no more, and waited: for the first's emptied host (once updated), or until its cutoff.
    const spare = (await h.inventory.get('two-spare'))!.vms.map((v) => v.id.split('/')[0]);
    expect(spare.length).toBeGreaterThanOrEqual(4);
    expect(new Set(spare).size).toBe(1);
    expect(await ns.redis.hlen(h.keys.evacuationReserved())).toBe(0);
  });

  it('rolls back a pre-kexec failure of each strategy with exactly its undo steps; VMs stay where they run', async () => {
    // Each failing step does half its work first (fault-plan.ts): a drain moves half the VMs.
    const faults: Record<string, FaultPlan> = {
      'undo-lu-0': { failStep: 'freeze' },
      'undo-lur-0': { failStep: 'stop_vms' },
      'undo-lur-1': { failStep: 'preserve' },
      'undo-ev-0': { failStep: 'drain' },
      'undo-ev-1': { failStep: 'kexec_load' },
    };
    const undo: Record<string, { phase: string; steps: string[] }> = {
      'undo-lu-0': { phase: 'freeze', steps: ['thaw', 'unpreserve', 'kexec_unload'] },
      'undo-lur-0': { phase: 'stop_vms', steps: ['start_vms', 'kexec_unload'] },
      'undo-lur-1': { phase: 'preserve', steps: ['unpreserve', 'start_vms', 'kexec_unload'] },
      'undo-ev-0': { phase: 'drain', steps: ['undrain'] },
      'undo-ev-1': { phase: 'kexec_load', steps: ['kexec_unload', 'undrain'] },
    };
    const vmsOf = await mixedFleet('undo', { lu: 2, lur: 2, ev: 2 }, (vms) => vms + 4, faults);
    const { rollout, plan } = await h.create({ selector: 'fleet=undo', strategies: ['live-update', 'live-update-restart', 'evacuate'], maxVmRestarts: 2, maxConcurrent: 6 });
    expect(plan.strategies?.byStrategy).toMatchObject({ 'live-update': { hosts: 2 }, 'live-update-restart': { hosts: 2 }, evacuate: { hosts: 2 } });
    const view = await h.finished(rollout.id);
    expect(view.hostsByState).toEqual({ updated: 1, rolled_back: 5 });
    expect(view.hostsByStrategy).toEqual({
      'live-update': { updated: 1, rolled_back: 1 },
      'live-update-restart': { rolled_back: 2 },
      evacuate: { rolled_back: 2 },
    });
    const results = new Map((await h.rollouts.hosts(rollout.id, { state: 'rolled_back' })).hosts.map((r) => [r.hostId, r]));
    for (const [host, expected] of Object.entries(undo)) {
      expect(results.get(host), host).toMatchObject({ outcome: 'rolled_back', phase: expected.phase });
      const rec = (await h.simulated.load(host))!;
      // What the host saw after its failing step: exactly the undo steps, in order, each ok.
      const failedAt = rec.history.findIndex((e) => e.step === expected.phase && e.result === 'failed');
      expect(failedAt, host).toBeGreaterThanOrEqual(0);
      expect(rec.history.slice(failedAt + 1).map((e) => `${e.step}:${e.result}`), host).toEqual(expected.steps.map((st) => `${st}:ok`));
      expect(rec.kernelRelease, host).toBe('6.12.0-lts');
      expect(rec.drained ?? false, host).toBe(false);
      expect(rec.stoppedVms ?? [], host).toEqual([]);
    }
    // The broken drain moved half of its VMs (they stay where they went, running); the other half never left.
    const home = (await h.simulated.vmsOn('undo-ev-0')).filter((name) => name.startsWith('undo-ev-0/'));
    expect(home).toHaveLength(2);
    // undo-ev-1 drained fully before kexec_load failed: its VMs all run elsewhere now.
    expect((await h.simulated.vmsOn('undo-ev-1')).filter((name) => name.startsWith('undo-ev-1/'))).toEqual([]);
    expect(await conservationProblems(vmsOf)).toEqual([]);
    // Every reservation was given back: the VMs that moved count where the inventory lists them.
    expect(await ns.redis.hlen(h.keys.evacuationReserved())).toBe(0);
    expect(await overbookedInInventory(vmsOf.keys())).toEqual([]);
    // Counted: lu-1's 2 VMs preserved; the restarts of both lur hosts (undone stop_vms); ev-1's
    // finished drain and the two VMs ev-0's broken drain moved.
    expect(view.vmDisruptions).toEqual({ preserved: 2, migrated: 6, restarted: 2, lost: 0 });
    const ev0 = (await h.rollouts.hosts(rollout.id, { state: 'rolled_back' })).hosts.find((r) => r.hostId === 'undo-ev-0');
    expect(ev0).toBeDefined();
    expect((await h.inventory.get('undo-ev-0'))!.vms.map((v) => v.id)).toEqual(home.map((name) => name.slice('undo-ev-0/'.length)));
    expect(await inventoryProblems(vmsOf)).toEqual([]);
  });

  it('maxVmRestarts halts restarts at the limit: the hosts past it fall back to evacuation, or are skipped', async () => {
    const vmsOf = await mixedFleet('budget', { lu: 2, lur: 4, ev: 0 }, (vms) => vms + 4);
    const restartOnly = await h.create({ selector: 'fleet=budget', strategies: ['live-update', 'live-update-restart'], maxVmRestarts: 2, dryRun: true });
    expect(restartOnly.plan.strategies?.byStrategy).toMatchObject({ 'live-update': { hosts: 2 }, 'live-update-restart': { hosts: 2 }, skip: { hosts: 2 } });
    expect(restartOnly.plan.strategies?.passedOver['live-update-restart']).toEqual({ RESTART_BUDGET: 2 });

    const { rollout } = await h.create({ selector: 'fleet=budget', strategies: ['live-update', 'live-update-restart', 'evacuate'], maxVmRestarts: 2, maxConcurrent: 3 });
    const view = await h.finished(rollout.id);
    expect(view.hostsByState).toEqual({ updated: 6 });
    expect(view.hostsByStrategy).toEqual({ 'live-update': { updated: 2 }, 'live-update-restart': { updated: 2 }, evacuate: { updated: 2 } });
    // Exactly two VMs were stopped fleet-wide, on the two hosts within the budget.
    let stopped = 0;
    for (const host of vmsOf.keys()) stopped += (await h.simulated.load(host))!.calls.stop_vms ?? 0;
    expect(stopped).toBe(2);
    expect(view.vmDisruptions).toEqual({ preserved: 6, restarted: 2, migrated: 4, lost: 0 });
    expect(await conservationProblems(vmsOf)).toEqual([]);
  });

  /** The host registered again with `luoEnabled: false`, as its agent would report a kernel without Live Update. */
  async function disableLuo(hostId: string): Promise<void> {
    const host = (await h.inventory.get(hostId))!;
    await h.inventory.put({ ...host, luoEnabled: false });
  }

  it('evacuates a host whose kernel has LUO disabled instead of planning a Live Update that cannot run', async () => {
    const vmsOf = await mixedFleet('luo', { lu: 3, lur: 0, ev: 0 }, (vms) => vms + 2);
    await disableLuo('luo-lu-2');
    const { rollout, plan } = await h.create({ selector: 'fleet=luo', strategies: ['live-update', 'live-update-restart', 'evacuate'], maxConcurrent: 3 });
    expect(plan.strategies?.byStrategy).toEqual({ 'live-update': { hosts: 2, vms: 4 }, evacuate: { hosts: 1, vms: 2 } });
    expect(plan.strategies?.passedOver).toEqual({ 'live-update': { LUO_DISABLED: 1 }, 'live-update-restart': { LUO_DISABLED: 1 } });
    const view = await h.finished(rollout.id);
    expect(view.hostsByStrategy).toEqual({ 'live-update': { updated: 2 }, evacuate: { updated: 1 } });
    const rec = (await h.simulated.load('luo-lu-2'))!;
    // The simulated host has LUO off too, so a Live Update's precheck would have refused it.
    expect(rec.luoEnabled).toBe(false);
    expect(rec.kernelRelease).toBe(TARGET);
    expect(rec.calls.preserve ?? 0).toBe(0);
    expect((await h.simulated.vmsOn('luo-lu-2')).filter((name) => name.startsWith('luo-lu-2/'))).toEqual([]);
    expect(view.vmDisruptions).toEqual({ preserved: 4, migrated: 2, restarted: 0, lost: 0 });
    expect(await conservationProblems(vmsOf)).toEqual([]);
  });

  it('skips a host whose kernel has LUO disabled, LUO_DISABLED, when the rollout allows only a Live Update', async () => {
    await mixedFleet('luoonly', { lu: 3, lur: 0, ev: 0 }, (vms) => vms + 2);
    await disableLuo('luoonly-lu-2');
    const { rollout, plan } = await h.create({ selector: 'fleet=luoonly', strategies: ['live-update'], maxConcurrent: 3 });
    expect(plan).toMatchObject({ eligible: 2, skipped: 1, skippedByReason: { LUO_DISABLED: 1 } });
    const view = await h.finished(rollout.id);
    expect(view.hostsByState).toEqual({ updated: 2, skipped: 1 });
    const [skipped] = (await h.rollouts.hosts(rollout.id, { state: 'skipped' })).hosts;
    expect(skipped).toMatchObject({ hostId: 'luoonly-lu-2', outcome: 'skipped', reasons: ['LUO_DISABLED'] });
    // Never touched: no simulated host was even made for it.
    expect(await h.simulated.load('luoonly-lu-2')).toBeNull();
  });

  it('conserves every VM when every worker is SIGKILLed while hosts drain', async () => {
    const vmsOf = await mixedFleet('kill', { lu: 4, lur: 0, ev: 4 }, (vms) => vms + 6);
    // One host at a time: a kill then lands only on the draining host (a kill between another host's
    // kexec fence and its kexec call would roll it back, by design, which is not this test's point).
    const { rollout } = await h.create({ selector: 'fleet=kill', strategies: ['live-update', 'evacuate'], maxConcurrent: 1 });
    let kills = 0;
    const seen = new Set<string>();
    while (kills < 2) {
      const states = await h.states(rollout.id);
      const draining = Object.entries(states).find(([host, st]) => st === 'drain' && !seen.has(host));
      if (draining) {
        seen.add(draining[0]);
        await h.killWorkers();
        h.startWorkers(2);
        kills++;
      }
      if ((await h.view(rollout.id)).finishedAt !== undefined) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const view = await h.finished(rollout.id, 90_000);
    expect(kills).toBeGreaterThan(0);
    expect(view.hostsByState).toEqual({ updated: 8 });
    for (const host of vmsOf.keys()) expect((await h.simulated.load(host))!.calls.kexec, host).toBe(1);
    expect(await conservationProblems(vmsOf)).toEqual([]);
    expect(await inventoryProblems(vmsOf)).toEqual([]);
    expect(view.vmDisruptions).toEqual({ preserved: 8, migrated: 16, restarted: 0, lost: 0 });
  }, 120_000);
});
