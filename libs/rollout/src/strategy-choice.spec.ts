import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TopologyBuilder, type Vm } from '@luo-fleet/topology';
import { buildPreservationSet, type PreservationSet, type VmVerdict } from '@luo-fleet/preservation';
import { STRATEGIES, type Strategy } from '@luo-fleet/handover';
import { chooseStrategies, chooseStrategy, type StrategyCandidate } from './strategy-choice';

const GPU_A = '0000:3b:00.0';
const GPU_B = '0000:5e:00.0';
const PF = '0000:af:00.0';

/** Two passthrough GPUs alone in their groups; with `pf`, an SR-IOV physical function bound to vfio-pci too. */
function hostWith(id: string, vms: Vm[], opts: { pf?: boolean; hostReasons?: StrategyCandidate['hostReasons'] } = {}): StrategyCandidate {
  const b = new TopologyBuilder();
  const gpu = { vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint' } as const;
  b.add(GPU_A, { ...gpu, group: 10 });
  b.add(GPU_B, { ...gpu, group: 11 });
  if (opts.pf) b.add(PF, { ...gpu, group: 12, sriovTotalVfs: 8 });
  const topology = b.build();
  return { hostId: id, preservation: buildPreservationSet(topology, undefined, { vms }), vms, hostReasons: opts.hostReasons };
}

const vm = (id: string, facts: Partial<Vm> = {}): Vm => ({
  id,
  devices: [],
  memory: { backing: 'memfd-shmem', sizeMiB: 4096 },
  balloon: false,
  virtioMem: false,
  migratable: true,
  ...facts,
});
const hugetlb = { memory: { backing: 'memfd-hugetlb', sizeMiB: 4096 } } as const;
const ALL: Strategy[] = ['live-update', 'live-update-restart', 'evacuate'];

describe('chooseStrategy', () => {
  it('gives live-update to a host whose VMs and devices all pass', () => {
    const c = chooseStrategy(hostWith('hv-1', [vm('vm-a', { devices: [GPU_A] }), vm('vm-b')]), { allowed: ALL, restartsLeft: 0 });
    expect(c).toEqual({
      hostId: 'hv-1',
      strategy: 'live-update',
      rejected: [],
      reasons: [],
      restartVms: [],
      preservedDevices: [GPU_A, GPU_B],
      migrateVms: [],
    });
  });

  it('restarts the VMs that cannot ride the update, preserving only the devices of the others', () => {
    const host = hostWith('hv-1', [vm('vm-a', { devices: [GPU_A] }), vm('vm-b', { devices: [GPU_B], ...hugetlb })]);
    const c = chooseStrategy(host, { allowed: ALL, restartsLeft: 1 });
    expect(c.strategy).toBe('live-update-restart');
    expect(c.restartVms).toEqual(['vm-b']);
    expect(c.preservedDevices).toEqual([GPU_A]);
    expect(c.rejected).toEqual([{ strategy: 'live-update', reasons: ['MEMORY_HUGETLB'], detail: 'vm-b: MEMORY_HUGETLB' }]);
  });

  it('leaves behind a rejected device no VM holds under live-update-restart, but not under live-update', () => {
    const host = hostWith('hv-1', [vm('vm-a', { devices: [GPU_A] })], { pf: true });
    const c = chooseStrategy(host, { allowed: ALL, restartsLeft: 0 });
    expect(c.rejected).toEqual([{ strategy: 'live-update', reasons: ['IS_PHYSFN'], detail: `${PF}: IS_PHYSFN` }]);
    expect(c).toMatchObject({ strategy: 'live-update-restart', restartVms: [], preservedDevices: [GPU_A, GPU_B] });
  });

  it('evacuates when the restart budget is spent, and says so', () => {
    const host = hostWith('hv-1', [vm('vm-a', hugetlb), vm('vm-b', hugetlb)]);
    const c = chooseStrategy(host, { allowed: ALL, restartsLeft: 1 });
    expect(c).toMatchObject({ strategy: 'evacuate', migrateVms: ['vm-a', 'vm-b'], restartVms: [], preservedDevices: [] });
    expect(c.rejected.map((r) => [r.strategy, r.reasons])).toEqual([
      ['live-update', ['MEMORY_HUGETLB']],
      ['live-update-restart', ['RESTART_BUDGET']],
    ]);
    expect(c.rejected[1].detail).toBe("2 VM restarts needed, 1 left in the rollout's budget");
  });

  it('evacuates a host with Live Update disabled', () => {
    const c = chooseStrategy(hostWith('hv-1', [vm('vm-a')], { hostReasons: ['LUO_DISABLED'] }), { allowed: ALL, restartsLeft: 5 });
    expect(c.strategy).toBe('evacuate');
    expect(c.rejected.map((r) => r.reasons)).toEqual([['LUO_DISABLED'], ['LUO_DISABLED']]);
  });

  it('skips with every rejection\'s reasons when nothing applies', () => {
    const host = hostWith('hv-1', [vm('vm-a', { ...hugetlb, migratable: false })]);
    const c = chooseStrategy(host, { allowed: ALL, restartsLeft: 0 });
    expect(c).toMatchObject({ strategy: 'skip', reasons: ['MEMORY_HUGETLB', 'RESTART_BUDGET', 'VM_NOT_MIGRATABLE'], restartVms: [], preservedDevices: [] });
    expect(c.rejected[2].detail).toBe('cannot be live-migrated: vm-a');
  });

  it('skips a host with no room for its VMs: NO_CAPACITY', () => {
    const c = chooseStrategy(hostWith('hv-1', [vm('vm-a', hugetlb)]), { allowed: ['evacuate'], restartsLeft: 0, evacuationRoom: () => false });
    expect(c).toMatchObject({ strategy: 'skip', reasons: ['NO_CAPACITY'] });
  });

  it('skips a held host, whatever it could have had: HELD', () => {
    const c = chooseStrategy(hostWith('hv-1', [vm('vm-a')], { hostReasons: ['HELD'] }), { allowed: ALL, restartsLeft: 9 });
    expect(c).toMatchObject({ strategy: 'skip', reasons: ['HELD'] });
    expect(c.rejected).toHaveLength(3);
  });

  it('does not evacuate a host that does not answer', () => {
    const c = chooseStrategy(hostWith('hv-1', [], { hostReasons: ['HOST_UNREACHABLE'] }), { allowed: ALL, restartsLeft: 9 });
    expect(c).toMatchObject({ strategy: 'skip', reasons: ['HOST_UNREACHABLE'] });
  });

  it('keeps today\'s rule by default: live-update or skip with the device codes', () => {
    const plan = chooseStrategies([hostWith('hv-1', [], { pf: true }), hostWith('hv-2', [])], {});
    expect(plan.choices.map((c) => [c.strategy, c.reasons])).toEqual([
      ['skip', ['IS_PHYSFN']],
      ['live-update', []],
    ]);
  });
});

describe('chooseStrategies', () => {
  it('spends the restart budget on the hosts that come first, the others falling to their next strategy', () => {
    const hosts = ['hv-1', 'hv-2', 'hv-3'].map((id) => hostWith(id, [vm(`${id}-a`, hugetlb), vm(`${id}-b`)]));
    // 6 VMs, 40% of them: 3 restarts (rounded up), one per host.
    const plan = chooseStrategies(hosts, { strategies: ['live-update', 'live-update-restart'], maxVmRestarts: '40%' });
    expect(plan.restartBudget).toBe(3);
    expect(plan.choices.map((c) => c.strategy)).toEqual(['live-update-restart', 'live-update-restart', 'live-update-restart']);
    const tight = chooseStrategies(hosts, { strategies: ['live-update-restart', 'evacuate'], maxVmRestarts: 2 });
    expect(tight.choices.map((c) => c.strategy)).toEqual(['live-update-restart', 'live-update-restart', 'evacuate']);
    expect(tight.restarts).toBe(2);
  });

  it('property: each host gets the first allowed strategy that applies, and restarts never exceed the budget', () => {
    const arbVm = fc.record({ preservable: fc.boolean(), migratable: fc.boolean() });
    const arbHost = fc.record({
      vms: fc.array(arbVm, { maxLength: 5 }),
      devicesPass: fc.boolean(),
      reasons: fc.subarray(['LUO_DISABLED', 'HOST_UNREACHABLE', 'HELD'] as const),
      room: fc.boolean(),
    });
    const arbAllowed = fc.shuffledSubarray([...STRATEGIES], { minLength: 1 });
    const arbBudget = fc.oneof(fc.nat(12), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%` as const));
    fc.assert(
      fc.property(fc.array(arbHost, { maxLength: 12 }), arbAllowed, arbBudget, (specs, allowed, maxVmRestarts) => {
        const hosts = specs.map((s, i) => synthetic(`hv-${i}`, s));
        const room = new Map(specs.map((s, i) => [`hv-${i}`, s.room]));
        const plan = chooseStrategies(hosts, { strategies: allowed, maxVmRestarts }, (h) => room.get(h.hostId)!);
        expect(plan.restarts).toBeLessThanOrEqual(plan.restartBudget);
        let left = plan.restartBudget;
        plan.choices.forEach((c, i) => {
          const s = specs[i];
          const applies = (strategy: Strategy): boolean => {
            if (s.reasons.includes('HELD')) return false;
            const luo = !s.reasons.includes('LUO_DISABLED') && !s.reasons.includes('HOST_UNREACHABLE');
            switch (strategy) {
              case 'live-update':
                return luo && s.devicesPass && s.vms.every((v) => v.preservable);
              case 'live-update-restart':
                return luo && s.vms.filter((v) => !v.preservable).length <= left;
              case 'evacuate':
                return !s.reasons.includes('HOST_UNREACHABLE') && s.vms.every((v) => v.migratable) && s.room;
            }
          };
          const first = allowed.find(applies) ?? 'skip';
          expect(c.strategy).toBe(first);
          expect(c.rejected.map((r) => r.strategy)).toEqual(first === 'skip' ? allowed : allowed.slice(0, allowed.indexOf(first)));
          for (const r of c.rejected) expect(r.reasons.length).toBeGreaterThan(0);
          if (first === 'skip') expect(c.reasons.length).toBeGreaterThan(0);
          expect(c.restartVms).toHaveLength(first === 'live-update-restart' ? s.vms.filter((v) => !v.preservable).length : 0);
          left -= c.restartVms.length;
        });
      }),
      { numRuns: 300 },
    );
  });
});

/** A candidate made straight from its facts: VMs preservable or not, the device plan passing or not. */
function synthetic(hostId: string, s: { vms: { preservable: boolean; migratable: boolean }[]; devicesPass: boolean; reasons: readonly ('LUO_DISABLED' | 'HOST_UNREACHABLE' | 'HELD')[] }): StrategyCandidate {
  const vms: Vm[] = s.vms.map((v, i) => vm(`${hostId}-vm-${i}`, { migratable: v.migratable }));
  const verdicts: VmVerdict[] = s.vms.map((v, i) => ({
    id: vms[i].id,
    preservable: v.preservable,
    reasons: v.preservable ? [] : ['MEMORY_NOT_MEMFD'],
    devices: [],
    rejectedDevices: [],
    details: {},
  }));
  const preservation: PreservationSet = {
    profile: 'singleton-group',
    strictAcs: false,
    devices: [{ bdf: GPU_A, preservable: s.devicesPass, reasons: s.devicesPass ? [] : ['NO_IOMMU_GROUP'], iommuGroup: null, groupMembers: [], details: {} }],
    vms: verdicts,
    summary: { requested: 1, preservable: s.devicesPass ? 1 : 0, rejected: s.devicesPass ? 0 : 1, eligible: s.devicesPass, byReason: {} },
  };
  return { hostId, preservation, vms, hostReasons: s.reasons };
}
