import { generateHost, MEMORY_BACKINGS, type Vm } from '@luo-fleet/topology';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPreservationSet } from './plan';
import { VM_REASONS } from './reason';

/*
 * The VM rule of design 4.5, stated plainly: a VM rides the update exactly when every device it
 * holds is preservable, its memory is a shmem memfd, and it has no balloon or virtio-mem beside
 * assigned devices. Checked on generated fleet hosts with random VMs over their devices.
 */
const arbCase = fc
  .record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    profile: fc.constantFrom('singleton-group', 'acs-carried', 'pci-liveupdate-v9'),
    strictAcs: fc.boolean(),
    vms: fc.array(
      fc.record({
        picks: fc.array(fc.nat(), { maxLength: 4 }),
        backing: fc.constantFrom(...MEMORY_BACKINGS),
        balloon: fc.boolean(),
        virtioMem: fc.boolean(),
      }),
      { maxLength: 6 },
    ),
  })
  .map(({ seed, profile, strictAcs, vms: specs }) => {
    const { topology } = generateHost(seed, 0, { devices: 24 });
    const free = topology.devices.map((d) => d.bdf);
    // Each device goes to one VM at most, as the VM schema demands.
    const vms: Vm[] = specs.map((s, i) => ({
      id: `vm-${i}`,
      devices: s.picks.flatMap((p) => (free.length === 0 ? [] : free.splice(p % free.length, 1))),
      memory: { backing: s.backing, sizeMiB: 1024 },
      balloon: s.balloon,
      virtioMem: s.virtioMem,
      migratable: true,
    }));
    return { topology, profile, strictAcs, vms };
  });

describe('VM verdicts', () => {
  it('a VM is preservable exactly when all its devices are and its memory and flags pass', () => {
    fc.assert(
      fc.property(arbCase, ({ topology, profile, strictAcs, vms }) => {
        const set = buildPreservationSet(topology, undefined, { profile, strictAcs, vms });
        const device = (bdf: string) => set.devices.find((d) => d.bdf === bdf);
        expect(set.vms?.map((v) => v.id)).toEqual(vms.map((v) => v.id));
        for (const [i, vm] of vms.entries()) {
          const verdict = set.vms?.[i];
          const devicesOk = vm.devices.every((b) => device(b)?.preservable === true);
          const memoryOk = vm.memory.backing === 'memfd-shmem';
          const ioasOk = vm.devices.length === 0 || (!vm.balloon && !vm.virtioMem);
          expect(verdict?.preservable).toBe(devicesOk && memoryOk && ioasOk);
          const order = (verdict?.reasons ?? []).map((r) => VM_REASONS.indexOf(r));
          expect([...order].sort((a, b) => a - b)).toEqual(order);
          expect(verdict?.rejectedDevices.map((d) => d.bdf)).toEqual(vm.devices.filter((b) => device(b)?.preservable !== true));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('adding a device to a VM never turns a rejected VM preservable', () => {
    fc.assert(
      fc.property(arbCase, fc.nat(), ({ topology, profile, strictAcs, vms }, pick) => {
        const held = new Set(vms.flatMap((v) => v.devices));
        const free = topology.devices.map((d) => d.bdf).filter((b) => !held.has(b));
        if (vms.length === 0 || free.length === 0) return;
        const before = buildPreservationSet(topology, undefined, { profile, strictAcs, vms }).vms ?? [];
        const target = pick % vms.length;
        const grown = vms.map((v, i) => (i === target ? { ...v, devices: [...v.devices, free[pick % free.length]] } : v));
        const after = buildPreservationSet(topology, undefined, { profile, strictAcs, vms: grown }).vms ?? [];
        if (!before[target].preservable) expect(after[target].preservable).toBe(false);
        // Reasons only accumulate: whatever blocked it before still does.
        expect(after[target].reasons).toEqual(expect.arrayContaining(before[target].reasons));
      }),
      { numRuns: 200 },
    );
  });
});
