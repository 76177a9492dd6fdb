import { describe, expect, it } from 'vitest';
import {
  FleetGeneratorError,
  generateFleet,
  generateHost,
  HOST_KINDS,
  type GeneratedHost,
  type HostKind,
} from './fleet-generator';
import type { HostTopology } from './model';

const CANONICAL = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Every structural promise a HostTopology makes, checked independently of how it was built. */
function assertConsistent(topology: HostTopology): void {
  const byBdf = new Map(topology.devices.map((d) => [d.bdf, d]));
  expect(byBdf.size).toBe(topology.devices.length);
  const bdfs = topology.devices.map((d) => d.bdf);
  expect(bdfs).toEqual([...bdfs].sort());
  for (const d of topology.devices) {
    expect(d.bdf).toMatch(CANONICAL);
    for (const p of d.parentChain) expect(byBdf.has(p), `${d.bdf}: parent ${p}`).toBe(true);
    if (d.parentChain.length > 0) {
      expect(byBdf.get(d.parentChain[d.parentChain.length - 1])!.parentChain).toEqual([]);
      // Each parent's own chain is the rest of ours.
      expect(byBdf.get(d.parentChain[0])!.parentChain).toEqual(d.parentChain.slice(1));
    }
    if (d.isVirtfn) {
      const pf = byBdf.get(d.physfn!);
      expect(pf?.isPhysfn).toBe(true);
      expect(pf?.virtfns).toContain(d.bdf);
    }
    for (const vf of d.virtfns) expect(byBdf.get(vf)?.physfn).toBe(d.bdf);
    if (d.iommuGroup !== null) expect(topology.iommuGroups[String(d.iommuGroup)]).toContain(d.bdf);
  }
  for (const [group, members] of Object.entries(topology.iommuGroups)) {
    expect(members.length).toBeGreaterThan(0);
    expect(members).toEqual([...members].sort());
    for (const m of members) expect(byBdf.get(m)?.iommuGroup).toBe(Number(group));
  }
}

function devicesOfKind(host: GeneratedHost) {
  return host.topology.devices;
}

describe('generateHost', () => {
  it('is deterministic for a seed and index, and differs across seeds', () => {
    expect(generateHost(7, 123)).toEqual(generateHost(7, 123));
    const a = JSON.stringify(generateHost(7, 123).topology);
    const differing = [8, 9, 10, 11].filter((s) => JSON.stringify(generateHost(s, 123).topology) !== a);
    expect(differing.length).toBeGreaterThan(0);
  });

  it.each(HOST_KINDS)('builds consistent %s hosts, natural size and exact sizes', (kind) => {
    for (let i = 0; i < 12; i++) {
      const natural = generateHost(1, i, { kind });
      expect(natural.labels.kind).toBe(kind);
      assertConsistent(natural.topology);
      for (const devices of [5, 9, 32, 77, 200]) {
        const sized = generateHost(1, i, { kind, devices });
        expect(sized.topology.devices).toHaveLength(devices);
        assertConsistent(sized.topology);
      }
    }
  });

  it('gives every passthrough kind vfio-pci devices, and every kind host-owned devices', () => {
    for (const kind of HOST_KINDS) {
      const devices = devicesOfKind(generateHost(3, 0, { kind, devices: 32 }));
      // A general-purpose host passes nothing through: its VMs use virtio devices the host drives.
      expect(devices.some((d) => d.driver === 'vfio-pci'), kind).toBe(kind !== 'general');
      expect(devices.some((d) => d.driver === 'nvme'), kind).toBe(true);
      expect(devices.some((d) => d.driver !== 'vfio-pci' && d.bdf === '0000:00:00.0'), kind).toBe(true);
    }
  });

  it('models the hardware each kind is named for', () => {
    const hosts = (kind: HostKind) => Array.from({ length: 30 }, (_, i) => generateHost(5, i, { kind }).topology.devices);
    const gpu = hosts('gpu').flat();
    expect(gpu.some((d) => d.pcieType === 'upstream_port')).toBe(true);
    expect(gpu.some((d) => d.class >> 8 === 0x0403 && d.multifunction)).toBe(true);
    expect(gpu.some((d) => d.pcieType === 'downstream_port' && d.acs.state === 'present' && (d.acs.control & 0x1d) !== 0x1d)).toBe(true);
    const nic = hosts('sriov-nic').flat();
    expect(nic.some((d) => d.isVirtfn && d.driver === 'vfio-pci')).toBe(true);
    expect(nic.some((d) => d.isPhysfn && d.virtfns.length === 0)).toBe(true);
    const legacy = hosts('legacy').flat();
    expect(legacy.some((d) => d.pcieType === 'pcie_to_pci_bridge')).toBe(true);
    expect(legacy.some((d) => d.pcieType === 'conventional' && d.driver === 'vfio-pci')).toBe(true);
    for (const devices of hosts('nvme')) {
      const drives = devices.filter((d) => d.driver === 'vfio-pci');
      expect(drives.every((d) => d.class === 0x010802)).toBe(true);
    }
    for (const devices of hosts('shared-group')) {
      const counts = new Map<number, number>();
      for (const d of devices) if (d.driver === 'vfio-pci') counts.set(d.iommuGroup!, (counts.get(d.iommuGroup!) ?? 0) + 1);
      expect(Math.max(...counts.values())).toBeGreaterThan(1);
    }
  });

  it('rejects bad options with an error naming the option', () => {
    expect(() => generateHost(1, 0, { devices: 4 })).toThrow(FleetGeneratorError);
    expect(() => generateHost(1, 0, { devices: 4 })).toThrow(/devices/);
    expect(() => generateHost(1, 0, { devices: 2.5 })).toThrow(/devices/);
    expect(() => generateHost(1, 0, { kind: 'mainframe' as HostKind })).toThrow(/kind.*mainframe/);
    expect(() => generateHost(Number.NaN, 0)).toThrow(/seed/);
    expect(() => generateHost(1, -1)).toThrow(/index/);
    expect(() => generateHost(1, 0, { generalPurpose: 1.5 })).toThrow(/generalPurpose/);
    expect(() => generateHost(1, 0, { generalPurpose: Number.NaN })).toThrow(FleetGeneratorError);
    expect(() => generateHost(1, 0, { luoDisabled: -0.1 })).toThrow(/luoDisabled/);
    expect(() => generateFleet(-1, 1).next()).toThrow(/count/);
  });
});

describe('generateFleet', () => {
  it('yields count hosts lazily, equal to generateHost by index, with rack and zone labels', () => {
    const fleet = generateFleet(200, 42, { devices: 32 });
    const first = fleet.next().value as GeneratedHost;
    expect(first).toEqual(generateHost(42, 0, { devices: 32 }));
    const rest = [...fleet];
    expect(rest).toHaveLength(199);
    expect(rest[80]).toEqual(generateHost(42, 81, { devices: 32 }));
    const hostnames = new Set([first, ...rest].map((h) => h.hostname));
    expect(hostnames.size).toBe(200);
    const racks = new Set([first, ...rest].map((h) => h.labels.rack));
    expect(racks.size).toBe(5); // 40 hosts per rack
    expect(rest[39].labels.rack).not.toBe(rest[38].labels.rack);
  });

  it('mixes every passthrough kind by default, across all 8 zones', () => {
    const hosts = [...generateFleet(2000, 9)];
    const kinds = new Set(hosts.map((h) => h.labels.kind));
    expect([...kinds].sort()).toEqual(HOST_KINDS.filter((k) => k !== 'general').sort());
    // 2000 hosts are 50 racks, so every zone appears.
    expect(new Set(hosts.map((h) => h.labels.zone)).size).toBe(8);
  });

  it('makes a share of general-purpose hosts on request, every other host as without it', () => {
    const plain = [...generateFleet(1000, 9)];
    const mixed = [...generateFleet(1000, 9, { generalPurpose: 0.3 })];
    const general = mixed.filter((h) => h.labels.kind === 'general');
    expect(general.length).toBeGreaterThan(250);
    expect(general.length).toBeLessThan(350);
    mixed.forEach((h, i) => {
      if (h.labels.kind !== 'general') expect(h).toEqual(plain[i]);
    });
    // The passthrough kinds keep their shares among the others (gpu, sriov-nic and nvme a quarter each).
    const others = mixed.length - general.length;
    expect(mixed.filter((h) => h.labels.kind === 'gpu').length / others).toBeGreaterThan(0.2);
    expect(mixed.filter((h) => h.labels.kind === 'gpu').length / others).toBeLessThan(0.3);
    expect([...generateFleet(50, 9, { generalPurpose: 0.3 })]).toEqual(mixed.slice(0, 50));
    expect([...generateFleet(200, 9, { generalPurpose: 0 })]).toEqual(plain.slice(0, 200));
    expect(generateHost(9, 3, { generalPurpose: 1, kind: 'gpu' }).labels.kind).toBe('gpu');
  });

  it('turns Live Update off on a share of hosts on request, changing nothing else of any host', () => {
    const plain = [...generateFleet(1000, 9, { generalPurpose: 0.3 })];
    const mixed = [...generateFleet(1000, 9, { generalPurpose: 0.3, luoDisabled: 0.1 })];
    const off = mixed.filter((h) => h.luoEnabled === false);
    expect(off.length).toBeGreaterThan(60);
    expect(off.length).toBeLessThan(140);
    // Off hosts of every kind, general-purpose ones included.
    expect(new Set(off.map((h) => h.labels.kind)).size).toBeGreaterThan(3);
    mixed.forEach((h, i) => {
      const { luoEnabled, ...rest } = h;
      expect(luoEnabled === undefined || luoEnabled === false).toBe(true);
      expect(rest).toEqual(plain[i]);
    });
    expect(plain.every((h) => !('luoEnabled' in h))).toBe(true);
  });
});
