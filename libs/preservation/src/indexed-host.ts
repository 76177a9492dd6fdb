import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import type { DeviceLookup } from './acs-path';
import { emptyList } from './shared-empty';

/**
 * One host's topology with its devices indexed by BDF. The index (a Map) is built on first use, once
 * per host. A plan's own lookups (requested and VM-held devices) try a guess and a binary search over
 * the sorted devices first, so a plan that makes only those never hashes every BDF of the host; the
 * rules' lookups (the bridges above every device judged) go to the index, where that pays off.
 */
export class IndexedHost implements DeviceLookup {
  private positions: Map<Bdf, number> | undefined;

  constructor(readonly topology: HostTopology) {}

  /**
   * Where a device sits in `topology.devices`, -1 when the host has none such (a topology lists a
   * BDF once: its readers refuse duplicates). `guess` is tried first, so a caller walking the
   * devices in order finds each at once.
   */
  positionOf(bdf: Bdf, guess = -1): number {
    const devices = this.topology.devices;
    if (guess >= 0 && guess < devices.length && devices[guess].bdf === bdf) return guess;
    if (this.positions === undefined) {
      const found = searchSorted(devices, bdf);
      if (found >= 0) return found;
    }
    return this.index().get(bdf) ?? -1;
  }

  device(bdf: Bdf): PciDevice | undefined {
    const at = this.index().get(bdf);
    return at === undefined ? undefined : this.topology.devices[at];
  }

  private index(): Map<Bdf, number> {
    let index = this.positions;
    if (index === undefined) {
      index = new Map();
      const devices = this.topology.devices;
      for (let i = 0; i < devices.length; i++) index.set(devices[i].bdf, i);
      this.positions = index;
    }
    return index;
  }

  /** Members of an IOMMU group as `kernel/iommu_groups` lists them (the topology's own array). */
  groupMembers(group: number): readonly Bdf[] {
    // A numeric key reaches the same property as its decimal string, without building the string.
    return (this.topology.iommuGroups as Record<number, Bdf[] | undefined>)[group] ?? emptyList<Bdf>();
  }
}

/**
 * Binary search by BDF text: topologies list their devices sorted by BDF, which is text order while
 * domains have the same width. A miss (another order, or no such device) is for the index to settle.
 */
function searchSorted(devices: readonly PciDevice[], bdf: Bdf): number {
  let low = 0;
  let high = devices.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = devices[mid].bdf;
    if (at === bdf) return mid;
    if (at < bdf) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
