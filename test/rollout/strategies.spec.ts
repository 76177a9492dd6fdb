import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vm } from '@luo-fleet/topology';
import { vmName } from '@luo-fleet/simulated-host';
import type { CapacityRecord } from '@luo-fleet/store';
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
  async function mixedFleet(fleet: string, counts: { lu: number; lur: number; ev: number }, slots: (vms: number) => number) {
    const hosts = [];
    const vmsOf = new Map<string, Vm[]>();
    let n = 0;
    for (const [kind, count] of Object.entries(counts)) {
      for (let i = 0; i < count; i++, n++) {
        const id = `${fleet}-${kind}-${i}`;
        const vms = kind === 'lu' ? [vm('vm-0'), vm('vm-1')] : kind === 'lur' ? [vm('vm-0'), vm('vm-1', 'memfd-hugetlb')] : ['vm-0', 'vm-1', 'vm-2', 'vm-3'].map((id) => vm(id, 'memfd-hugetlb'));
        vmsOf.set(id, vms);
        hosts.push({ id, labels: { fleet, rack: `rack-${n % 2}`, zone: 'zone-1' }, driver: { kind: 'simulated' as const }, topology: eligibleGpuHostTopology(), vms, capacity: { slots: slots(vms.length) } });
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
    // Within capacity by the rollout's own books too.
    const books = await ns.redis.hgetall(h.keys.capacity(rollout.id));
    for (const [host, raw] of Object.entries(books)) {
      const r = JSON.parse(raw) as CapacityRecord;
      if (r.capacity && 'slots' in r.capacity) expect(r.used.vms, host).toBeLessThanOrEqual(r.capacity.slots);
    }
  });

  it('a host whose VMs have nowhere to go waits, then ends skipped NO_CAPACITY at the cutoff', async () => {
    // Every host is full: no slot to spare anywhere.
    const vmsOf = await mixedFleet('full', { lu: 2, lur: 0, ev: 1 }, (vms) => vms);
    const now = Date.now();
    const { rollout } = await h.create({
      selector: 'fleet=full',
      strategies: ['live-update', 'evacuate'],
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
});
