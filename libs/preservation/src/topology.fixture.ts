import type { AcsState, Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';

/** Tiny in-memory topologies for the specs: a device is its defaults plus what the test says. */
export const FULL_ACS: AcsState = { state: 'present', capability: 0x5f, control: 0x1d };
export const NO_ACS: AcsState = { state: 'absent' };
export const UNKNOWN_ACS: AcsState = { state: 'unknown' };

export function pciDevice(bdf: Bdf, facts: Partial<PciDevice> = {}): PciDevice {
  return {
    bdf,
    vendor: 0x10de,
    device: 0x2330,
    class: 0x030200,
    driver: 'vfio-pci',
    parentChain: [],
    isVirtfn: false,
    physfn: null,
    isPhysfn: false,
    sriovTotalVfs: 0,
    virtfns: [],
    iommuGroup: null,
    pcieType: 'endpoint',
    multifunction: false,
    acs: NO_ACS,
    ...facts,
  };
}

export function rootPort(bdf: Bdf, facts: Partial<PciDevice> = {}): PciDevice {
  return pciDevice(bdf, { vendor: 0x8086, device: 0x347a, class: 0x060400, driver: 'pcieport', pcieType: 'root_port', acs: FULL_ACS, ...facts });
}

/** Sorts devices and derives `iommuGroups` from each device's group, as sysfs would list them. */
export function hostOf(devices: PciDevice[]): HostTopology {
  const sorted = [...devices].sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0));
  const iommuGroups: Record<string, Bdf[]> = {};
  for (const d of sorted) {
    if (d.iommuGroup === null) continue;
    (iommuGroups[String(d.iommuGroup)] ??= []).push(d.bdf);
  }
  return { devices: sorted, iommuGroups };
}
