import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import type { DeviceLookup } from './acs-path';
import { emptyList } from './shared-empty';

/**
 * One host's topology with its devices indexed by BDF. The index is built on first use, once per
 * host, and only when a lookup misses its guess: a plan that walks the devices in topology order
 * (the default request, or every device in order) never pays for it.
 */
export class IndexedHost implements DeviceLookup {
  private positions: Map<Bdf, number> | undefined;

  constructor(readonly topology: HostTopology) {}

  /**
   * Where a device sits in `topology.devices`, -1 when the host has none such (a topology lists a
   * BDF once: its readers refuse duplicates). `guess` is tried before the index, so a caller walking
   * the devices in order finds each without it.
   */
  positionOf(bdf: Bdf, guess = -1): number {
    const devices = this.topology.devices;
    if (guess >= 0 && guess < devices.length && devices[guess].bdf === bdf) return guess;
    let index = this.positions;
    if (index === undefined) {
      index = new Map();
      for (let i = 0; i < devices.length; i++) index.set(devices[i].bdf, i);
      this.positions = index;
    }
    return index.get(bdf) ?? -1;
  }

  device(bdf: Bdf): PciDevice | undefined {
    const at = this.positionOf(bdf);
    return at < 0 ? undefined : this.topology.devices[at];
  }

  /** Members of an IOMMU group as `kernel/iommu_groups` lists them (the topology's own array). */
  groupMembers(group: number): readonly Bdf[] {
    // A numeric key reaches the same property as its decimal string, without building the string.
    return (this.topology.iommuGroups as Record<number, Bdf[] | undefined>)[group] ?? emptyList<Bdf>();
  }
}
