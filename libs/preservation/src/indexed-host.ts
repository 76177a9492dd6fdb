import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import type { DeviceLookup } from './acs-path';

const NO_MEMBERS: readonly Bdf[] = Object.freeze([]);

/**
 * One host's topology with its devices indexed by BDF. The index is built on first use, once per
 * host, so judging the default request (vfio-pci devices, non-strict) never pays for it.
 */
export class IndexedHost implements DeviceLookup {
  private byBdf: Map<Bdf, PciDevice> | undefined;

  constructor(readonly topology: HostTopology) {}

  device(bdf: Bdf): PciDevice | undefined {
    let index = this.byBdf;
    if (index === undefined) {
      index = new Map();
      const devices = this.topology.devices;
      for (let i = 0; i < devices.length; i++) index.set(devices[i].bdf, devices[i]);
      this.byBdf = index;
    }
    return index.get(bdf);
  }

  /** Members of an IOMMU group as `kernel/iommu_groups` lists them (the topology's own array). */
  groupMembers(group: number): readonly Bdf[] {
    // A numeric key reaches the same property as its decimal string, without building the string.
    return (this.topology.iommuGroups as Record<number, Bdf[] | undefined>)[group] ?? NO_MEMBERS;
  }
}
