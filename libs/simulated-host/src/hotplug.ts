import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';

/** A hot-plug that cannot happen on this topology, naming the device. */
export class HotplugError extends Error {
  override name = 'HotplugError';
}

const BDF = /^([0-9a-f]{4,}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/;

/**
 * The topology after a device appears in the IOMMU group of `intoGroupOf`: a new function next to
 * it on its bus (a multifunction card without ACS isolation between functions is exactly how a
 * group grows). The new device is unbound, so nobody asked to preserve it, yet the preserved
 * device's group is no longer the one the plan judged. Returns the new topology and the new BDF.
 */
export function applyHotplug(topology: HostTopology, intoGroupOf: Bdf): { topology: HostTopology; added: Bdf } {
  const target = topology.devices.find((d) => d.bdf === intoGroupOf);
  if (!target) throw new HotplugError(`hotplugIntoGroupOf: no device ${intoGroupOf} on this host`);
  if (target.iommuGroup === null) throw new HotplugError(`hotplugIntoGroupOf: ${intoGroupOf} has no IOMMU group to join`);
  const parts = BDF.exec(target.bdf);
  if (!parts) throw new HotplugError(`hotplugIntoGroupOf: ${intoGroupOf} is not a full lower-case BDF`);
  const [, domain, bus, dev] = parts;
  const taken = new Set(topology.devices.map((d) => d.bdf));
  const hex2 = (n: number) => n.toString(16).padStart(2, '0');
  const candidates: Bdf[] = [];
  for (let fn = 0; fn < 8; fn++) candidates.push(`${domain}:${bus}:${dev}.${fn}`);
  for (let d = 0; d < 32; d++) for (let fn = 0; fn < 8; fn++) candidates.push(`${domain}:${bus}:${hex2(d)}.${fn}`);
  const added = candidates.find((c) => !taken.has(c));
  if (!added) throw new HotplugError(`hotplugIntoGroupOf: bus ${domain}:${bus} of ${intoGroupOf} has no free slot`);

  const device: PciDevice = {
    bdf: added,
    // QEMU's "edu" test device: an obviously simulated identity.
    vendor: 0x1234,
    device: 0x11e8,
    class: 0x00ff00,
    driver: null,
    parentChain: [...target.parentChain],
    isVirtfn: false,
    physfn: null,
    isPhysfn: false,
    sriovTotalVfs: 0,
    virtfns: [],
    iommuGroup: target.iommuGroup,
    pcieType: target.pcieType === 'rc_integrated_endpoint' ? 'rc_integrated_endpoint' : 'endpoint',
    multifunction: true,
    acs: { state: 'absent' },
  };
  const group = String(target.iommuGroup);
  return {
    added,
    topology: {
      devices: [...topology.devices, device].sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0)),
      iommuGroups: { ...topology.iommuGroups, [group]: [...(topology.iommuGroups[group] ?? []), added].sort() },
    },
  };
}
