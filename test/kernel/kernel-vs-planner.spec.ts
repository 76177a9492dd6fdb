import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { buildPreservationSet } from '@luo-fleet/preservation';
import type { HostTopology, PciDevice } from '@luo-fleet/topology';
import { waitFor } from '../support/app-process';
import { AGENT_START_MS, QemuGuest } from './support/qemu-guest';
import { ALL_TOPOLOGIES, TOPOLOGIES } from './support/topologies';

/*
 * The planner against the kernel's own IOMMU groups: one guest with every emulated topology (a
 * root port with ACS and an endpoint; a switch whose downstream ports lack ACS; a conventional PCI
 * bridge with two devices; a two-function device; an SR-IOV NVMe controller with two VFs). The
 * planner reads the guest's sysfs through the agent's GET /v1/topology; the kernel's groups are
 * what the guest's shell listed under /sys/kernel/iommu_groups at boot, its VFs what each PF's
 * virtfn links named once the shell had enabled them. The first endpoint and the first VF are
 * bound to vfio-pci at boot.
 */

const kernel = inject('luoKernel');
/** The endpoint below the first root port: bus 1 is the first bridge the kernel numbers. */
const VFIO_BDF = '0000:01:00.0';
/** The first VF of the SR-IOV PF below the fifth root port (bus 9), handed to vfio-pci as a VM would get it. */
const VFIO_VF = '0000:09:00.1';
let guest: QemuGuest;
let topology: HostTopology;
let kernelGroups: Map<number, string[]>;
/** Each SR-IOV PF with the VFs the kernel made for it. */
let kernelVfs: Map<string, string[]>;

beforeAll(async () => {
  guest = new QemuGuest({ name: 'kernel-vs-planner', hostId: 'guest-topo', kernel, topology: ALL_TOPOLOGIES, vfioBdfs: [VFIO_BDF, VFIO_VF] });
  await guest.start();
  const identity = await guest.waitForAgent(AGENT_START_MS);
  topology = await guest.driver().topology();
  // boot.sh lists the groups in the background, next to the agent's start; the VFs before it.
  const listed = await waitFor('the guest to list its IOMMU groups', async () => guest.readShare(`iommu-groups.${identity.bootId}`), 120_000, 250);
  kernelGroups = new Map([...listedRows(listed)].map(([group, members]) => [Number(group), members.sort()]));
  kernelVfs = listedRows(guest.readShare(`sriov.${identity.bootId}`) ?? '');
});

/** What the guest's shell listed, a key and its members per line, e.g. `12 0000:01:00.0 0000:01:00.1`. */
function listedRows(listed: string): Map<string, string[]> {
  return new Map(
    listed
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [key, ...members] = line.trim().split(/\s+/);
        return [key, members];
      }),
  );
}

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

  it('selects the devices bound to vfio-pci by default: the endpoint preservable, the VF refused as one', () => {
    const bound = topology.devices.filter((d) => d.driver === 'vfio-pci').map((d) => d.bdf);
    expect(bound).toEqual([VFIO_BDF, VFIO_VF]);
    const set = buildPreservationSet(topology, undefined);
    expect(set.devices).toEqual([
      expect.objectContaining({ bdf: VFIO_BDF, preservable: true, reasons: [] }),
      expect.objectContaining({ bdf: VFIO_VF, preservable: false, reasons: expect.arrayContaining(['IS_VIRTFN']) }),
    ]);
    expect(set.devices[1].reasons[0]).toBe('IS_VIRTFN');
  });
});

describe(`SR-IOV on a real kernel (${TOPOLOGIES.sriov.name}: ${TOPOLOGIES.sriov.description})`, () => {
  const deviceAt = (bdf: string) => topology.devices.find((d) => d.bdf === bdf);
  const sharesGroup = (d: PciDevice) => (kernelGroups.get(d.iommuGroup!) ?? []).length > 1;

  it('finds every VF the kernel made, each with its PF, and no other', () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    expect([...kernelVfs.values()].map((vfs) => vfs.length)).toEqual([TOPOLOGIES.sriov.numVfs]);
    for (const [pf, vfs] of kernelVfs) {
      expect(deviceAt(pf)).toMatchObject({ isPhysfn: true, isVirtfn: false, physfn: null, sriovTotalVfs: 2, driver: 'nvme' });
      expect([...deviceAt(pf)!.virtfns].sort()).toEqual([...vfs].sort());
      for (const vf of vfs) expect(deviceAt(vf), vf).toMatchObject({ isVirtfn: true, isPhysfn: false, physfn: pf, driver: vf === VFIO_VF ? 'vfio-pci' : null });
    }
    expect(topology.devices.filter((d) => d.isPhysfn).map((d) => d.bdf)).toEqual([...kernelVfs.keys()]);
    expect(topology.devices.filter((d) => d.isVirtfn).map((d) => d.bdf).sort()).toEqual([...kernelVfs.values()].flat().sort());
  });

  it("puts the PF and each VF in the kernel's group for it", () => {
    for (const bdf of [...kernelVfs].flat(2)) {
      const device = deviceAt(bdf)!;
      expect(device.iommuGroup, bdf).not.toBeNull();
      expect(kernelGroups.get(device.iommuGroup!), bdf).toContain(bdf);
      expect([...topology.iommuGroups[String(device.iommuGroup)]].sort(), bdf).toEqual(kernelGroups.get(device.iommuGroup!));
    }
  });

  it('the seed profile refuses a VF with IS_VIRTFN and its PF with IS_PHYSFN, first; GROUP_NOT_SINGLETON exactly when the kernel grouped it with others', () => {
    const [[pf, vfs]] = [...kernelVfs];
    const set = buildPreservationSet(topology, [pf, ...vfs], { profile: 'singleton-group' });
    const [pfVerdict, ...vfVerdicts] = set.devices;
    expect(pfVerdict).toMatchObject({ bdf: pf, preservable: false });
    expect(pfVerdict.reasons[0]).toBe('IS_PHYSFN');
    expect(pfVerdict.reasons.includes('IS_VIRTFN')).toBe(false);
    expect(pfVerdict.reasons.includes('GROUP_NOT_SINGLETON'), pf).toBe(sharesGroup(deviceAt(pf)!));
    for (const [i, verdict] of vfVerdicts.entries()) {
      expect(verdict).toMatchObject({ bdf: vfs[i], preservable: false });
      expect(verdict.reasons[0]).toBe('IS_VIRTFN');
      expect(verdict.reasons.includes('IS_PHYSFN')).toBe(false);
      expect(verdict.reasons.includes('GROUP_NOT_SINGLETON'), vfs[i]).toBe(sharesGroup(deviceAt(vfs[i])!));
    }
  });

  it('the v9 profile refuses each VF (IS_VIRTFN) and accepts the PF', () => {
    const [[pf, vfs]] = [...kernelVfs];
    const set = buildPreservationSet(topology, [pf, ...vfs], { profile: 'pci-liveupdate-v9' });
    expect(set.devices).toEqual([
      expect.objectContaining({ bdf: pf, preservable: true, reasons: [] }),
      ...vfs.map((vf) => expect.objectContaining({ bdf: vf, preservable: false, reasons: ['IS_VIRTFN'] })),
    ]);
  });
});
