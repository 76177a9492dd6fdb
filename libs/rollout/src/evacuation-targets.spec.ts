import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chooseEvacuationTargets, withinCapacity, type CapacityReservation, type EvacuatedVm, type TargetHost } from './evacuation-targets';

const vm = (id: string, vcpus = 4, memoryMiB = 8192): EvacuatedVm => ({ id, vcpus, memoryMiB });
const idle = { vms: 0, vcpus: 0, memoryMiB: 0 };
const host = (hostId: string, more: Partial<TargetHost> = {}): TargetHost => ({
  hostId,
  capacity: { slots: 4 },
  load: idle,
  onTargetKernel: false,
  domain: 'rack-1',
  ...more,
});
const source = (vms: EvacuatedVm[], domain = 'rack-1') => ({ hostId: 'hv-src', domain, vms });

describe('chooseEvacuationTargets', () => {
  it('prefers hosts already on the target kernel, then the one left with most room', () => {
    const result = chooseEvacuationTargets({
      source: source([vm('vm-a'), vm('vm-b'), vm('vm-c')]),
      hosts: [host('hv-old'), host('hv-new-1', { onTargetKernel: true, load: { ...idle, vms: 2 } }), host('hv-new-2', { onTargetKernel: true })],
      busy: new Set(),
      reservations: [],
      sameDomain: false,
    });
    expect(result.kind).toBe('targets');
    if (result.kind !== 'targets') return;
    // hv-new-2 has most room until it is down to the one slot hv-new-1 has left too: then by id.
    expect(result.migrations).toEqual([
      { vmId: 'vm-a', targetHostId: 'hv-new-2' },
      { vmId: 'vm-b', targetHostId: 'hv-new-2' },
      { vmId: 'vm-c', targetHostId: 'hv-new-1' },
    ]);
    expect(result.reservations.map((r) => r.sourceHostId)).toEqual(['hv-src', 'hv-src', 'hv-src']);
  });

  it('never picks the source or a busy host, and stays in the domain when asked', () => {
    const hosts = [host('hv-src'), host('hv-busy', { onTargetKernel: true }), host('hv-far', { domain: 'rack-2', onTargetKernel: true }), host('hv-near')];
    const result = chooseEvacuationTargets({ source: source([vm('vm-a')]), hosts, busy: new Set(['hv-busy']), reservations: [], sameDomain: true });
    expect(result).toMatchObject({ kind: 'targets', migrations: [{ vmId: 'vm-a', targetHostId: 'hv-near' }] });
    const anywhere = chooseEvacuationTargets({ source: source([vm('vm-a')]), hosts, busy: new Set(['hv-busy']), reservations: [], sameDomain: false });
    expect(anywhere).toMatchObject({ kind: 'targets', migrations: [{ vmId: 'vm-a', targetHostId: 'hv-far' }] });
  });

  it('counts other evacuations\' reservations, and waits when there is no room for every VM', () => {
    const hosts = [host('hv-1', { capacity: { vcpus: 16, memoryMiB: 32768 } })];
    const held: CapacityReservation[] = [{ vmId: 'vm-x', sourceHostId: 'hv-other', targetHostId: 'hv-1', vcpus: 8, memoryMiB: 16384 }];
    const fits = chooseEvacuationTargets({ source: source([vm('vm-a', 8, 16384)]), hosts, busy: new Set(), reservations: held, sameDomain: false });
    expect(fits.kind).toBe('targets');
    const full = chooseEvacuationTargets({ source: source([vm('vm-a', 8, 16384), vm('vm-b', 1, 1024)]), hosts, busy: new Set(), reservations: held, sameDomain: false });
    expect(full).toEqual({
      kind: 'waiting_capacity',
      vmId: 'vm-b',
      detail: 'no host has room for vm-b (1 vCPUs, 1024 MiB) beside the other VMs of hv-src',
    });
  });

  it('places a host with no VMs anywhere (nothing to move)', () => {
    expect(chooseEvacuationTargets({ source: source([]), hosts: [], busy: new Set(), reservations: [], sameDomain: true })).toEqual({
      kind: 'targets',
      migrations: [],
      reservations: [],
    });
  });

  it('property: never overbooks a target, never picks a busy host or the source, and places every VM or none', () => {
    const arbCapacity = fc.oneof(
      fc.record({ slots: fc.nat(6) }),
      fc.record({ vcpus: fc.nat(64), memoryMiB: fc.nat(65536) }),
    );
    const arbHost = fc.record({
      capacity: arbCapacity,
      load: fc.record({ vms: fc.nat(3), vcpus: fc.nat(16), memoryMiB: fc.nat(16384) }),
      onTargetKernel: fc.boolean(),
      domain: fc.constantFrom('rack-1', 'rack-2'),
      busy: fc.boolean(),
    });
    const arbVm = fc.record({ vcpus: fc.integer({ min: 1, max: 16 }), memoryMiB: fc.integer({ min: 256, max: 16384 }) });
    fc.assert(
      fc.property(
        fc.array(arbHost, { minLength: 1, maxLength: 8 }),
        fc.array(arbVm, { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(7), arbVm), { maxLength: 6 }),
        fc.boolean(),
        (specs, vmSizes, held, sameDomain) => {
          const hosts: TargetHost[] = specs.map((s, i) => ({ hostId: `hv-${i}`, capacity: s.capacity, load: s.load, onTargetKernel: s.onTargetKernel, domain: s.domain }));
          const busy = new Set(specs.flatMap((s, i) => (s.busy ? [`hv-${i}`] : [])));
          const reservations = held.map(([t, size], i) => ({ vmId: `held-${i}`, sourceHostId: 'hv-other', targetHostId: `hv-${t % hosts.length}`, ...size }));
          // The source is one of the hosts, as it is in a fleet.
          const src = { hostId: 'hv-0', domain: specs[0].domain, vms: vmSizes.map((s, i) => ({ id: `vm-${i}`, ...s })) };
          const result = chooseEvacuationTargets({ source: src, hosts, busy, reservations, sameDomain });
          if (result.kind === 'waiting_capacity') {
            expect(src.vms.map((v) => v.id)).toContain(result.vmId);
            return;
          }
          expect(result.migrations.map((m) => m.vmId)).toEqual(src.vms.map((v) => v.id));
          expect(result.reservations.map((r) => r.vmId).sort()).toEqual(src.vms.map((v) => v.id).sort());
          for (const m of result.migrations) {
            expect(m.targetHostId).not.toBe(src.hostId);
            expect(busy.has(m.targetHostId)).toBe(false);
            if (sameDomain) expect(hosts.find((h) => h.hostId === m.targetHostId)!.domain).toBe(src.domain);
          }
          // Every host that took a VM is within its capacity, counting its load and every reservation.
          for (const target of new Set(result.reservations.map((r) => r.targetHostId))) {
            const h = hosts.find((x) => x.hostId === target)!;
            const on = [...reservations, ...result.reservations].filter((r) => r.targetHostId === target);
            const used = {
              vms: h.load.vms + on.length,
              vcpus: h.load.vcpus + on.reduce((n, r) => n + r.vcpus, 0),
              memoryMiB: h.load.memoryMiB + on.reduce((n, r) => n + r.memoryMiB, 0),
            };
            expect(withinCapacity(h.capacity, used), `${target} overbooked`).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: two evacuations chosen one after the other, the second seeing the first\'s reservations, never overbook', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(4), { minLength: 2, maxLength: 6 }), fc.nat(5), fc.nat(5), (slots, a, b) => {
        const hosts = slots.map((n, i) => host(`hv-${i}`, { capacity: { slots: n } }));
        const vms = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => vm(`${prefix}-${i}`));
        const first = chooseEvacuationTargets({ source: { hostId: 'hv-0', domain: 'rack-1', vms: vms('a', a) }, hosts, busy: new Set(['hv-1']), reservations: [], sameDomain: false });
        const held = first.kind === 'targets' ? first.reservations : [];
        const second = chooseEvacuationTargets({ source: { hostId: 'hv-1', domain: 'rack-1', vms: vms('b', b) }, hosts, busy: new Set(['hv-0']), reservations: held, sameDomain: false });
        const all = [...held, ...(second.kind === 'targets' ? second.reservations : [])];
        for (const h of hosts) {
          const n = all.filter((r) => r.targetHostId === h.hostId).length;
          expect(n).toBeLessThanOrEqual((h.capacity as { slots: number }).slots);
        }
      }),
    );
  });
});
