import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { buildPreservationSet } from '@luo-fleet/preservation';
import type { HostTopology, PciDevice } from '@luo-fleet/topology';
import { waitFor } from '../support/app-process';
import { QemuGuest } from './support/qemu-guest';
import { ALL_TOPOLOGIES, TOPOLOGIES } from './support/topologies';

/*
 * The planner against the kernel's own IOMMU groups: one guest with every emulated topology (a
 * root port with ACS and an endpoint; a switch whose downstream ports lack ACS; a conventional PCI
 * bridge with two devices; a two-function device). The planner reads the guest's sysfs through
 * the agent's GET /v1/topology; the kernel's groups are what the guest's shell listed under
 * /sys/kernel/iommu_groups at boot. The first endpoint is bound to vfio-pci at boot.
 */

const kernel = inject('luoKernel');
/** The endpoint below the first root port: bus 1 is the first bridge the kernel numbers. */
const VFIO_BDF = '0000:01:00.0';
let guest: QemuGuest;
let topology: HostTopology;
let kernelGroups: Map<number, string[]>;

beforeAll(async () => {
  guest = new QemuGuest({ name: 'kernel-vs-planner', hostId: 'guest-topo', kernel, topology: ALL_TOPOLOGIES, vfioBdfs: [VFIO_BDF] });
  await guest.start();
  const identity = await guest.waitForAgent(120_000);
  topology = await guest.driver().topology();
  // boot.sh lists the groups in the background, next to the agent's start.
  const listed = await waitFor('the guest to list its IOMMU groups', async () => guest.readShare(`iommu-groups.${identity.bootId}`), 120_000, 250);
  kernelGroups = new Map(
    listed
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [group, ...members] = line.trim().split(/\s+/);
        return [Number(group), members.sort()];
      }),
  );
});

afterAll(async () => guest?.dispose());

const PCIE_ENDPOINTS = ['endpoint', 'legacy_endpoint', 'rc_integrated_endpoint'];

describe(`the planner's reading of a real kernel's IOMMU groups (${Object.values(TOPOLOGIES).map((t) => t.name).join(', ')})`, () => {
  it('has exactly the groups the kernel formed', () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    expect(kernelGroups.size).toBeGreaterThan(5);
    const planned = new Map(Object.entries(topology.iommuGroups).map(([g, members]) => [Number(g), [...members].sort()]));
    expect(planned).toEqual(kernelGroups);
    for (const device of topology.devices) {
      const group = [...kernelGroups].find(([, members]) => members.includes(device.bdf))?.[0] ?? null;
      expect(device.iommuGroup, device.bdf).toBe(group);
    }
  });

  it('reports ACS_PATH_NOT_ENABLED in strict mode for a single-function PCIe endpoint exactly when the kernel grouped it with others', () => {
    const endpoints = topology.devices.filter((d) => PCIE_ENDPOINTS.includes(d.pcieType) && !d.multifunction && d.iommuGroup !== null);
    // Each kind is there: alone below an ACS root port, sharing below a switch or a PCI bridge.
    const shared = (d: PciDevice) => (kernelGroups.get(d.iommuGroup!) ?? []).length > 1;
    expect(endpoints.some(shared)).toBe(true);
    expect(endpoints.some((d) => !shared(d))).toBe(true);
    const strict = buildPreservationSet(topology, endpoints.map((d) => d.bdf), { strictAcs: true });
    for (const [i, device] of endpoints.entries()) {
      const verdict = strict.devices[i];
      expect(verdict.bdf).toBe(device.bdf);
      expect(verdict.reasons.includes('ACS_PATH_NOT_ENABLED'), `${device.bdf}: ${verdict.reasons.join(',')}; group ${kernelGroups.get(device.iommuGroup!)}`).toBe(shared(device));
      expect(verdict.reasons.includes('GROUP_NOT_SINGLETON'), device.bdf).toBe(shared(device));
    }
  });

  it('reports ACS_PATH_NOT_ENABLED in strict mode for every conventional PCI device, grouped or not (the kernel never counts ACS on one)', () => {
    const conventional = topology.devices.filter((d) => d.pcieType === 'conventional');
    // The virtio devices on the root bus and the two behind the PCI bridge.
    expect(conventional.length).toBeGreaterThanOrEqual(4);
    const strict = buildPreservationSet(topology, conventional.map((d) => d.bdf), { strictAcs: true });
    for (const verdict of strict.devices) expect(verdict.reasons, verdict.bdf).toContain('ACS_PATH_NOT_ENABLED');
  });

  it('selects the devices bound to vfio-pci by default', () => {
    const bound = topology.devices.filter((d) => d.driver === 'vfio-pci').map((d) => d.bdf);
    expect(bound).toEqual([VFIO_BDF]);
    const set = buildPreservationSet(topology, undefined);
    expect(set.devices).toEqual([expect.objectContaining({ bdf: VFIO_BDF, preservable: true, reasons: [] })]);
  });
});
