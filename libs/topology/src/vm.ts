import type { Bdf } from './model';

/** How guest memory is backed (design 4.5); only a shmem memfd can ride a Live Update today. */
export const MEMORY_BACKINGS = ['memfd-shmem', 'memfd-hugetlb', 'anonymous', 'file'] as const;
export type MemoryBacking = (typeof MEMORY_BACKINGS)[number];

export interface VmMemory {
  backing: MemoryBacking;
  sizeMiB: number;
}

/**
 * A VM on a host, in the inventory's form (design 4.5). What it holds, not what can be done with it:
 * verdicts are computed in libs/preservation.
 */
export interface Vm {
  id: string;
  /** PCI devices assigned to it (VFIO passthrough), canonical BDFs; a device is held by one VM at most. */
  devices: Bdf[];
  memory: VmMemory;
  /** A virtio-balloon device: the guest can give memory back, so its mappings change. */
  balloon: boolean;
  /** A virtio-mem device: memory is plugged and unplugged at run time. */
  virtioMem: boolean;
  /** Whether the VMM can live-migrate it to another host. */
  migratable: boolean;
  /** Free-form labels; a null-prototype object, so keys such as `__proto__` are plain keys. */
  labels?: Readonly<Record<string, string>>;
}

/**
 * A VM's name fleet-wide. VM ids are unique per host only, so a VM is named by the host it was
 * registered on: `<home host>/<vm id>`. Host ids hold no `/`, so an id that has one is such a name
 * already (the inventory lists a migrated VM under it on its new host) and is kept as it is.
 */
export function fleetVmName(homeHostId: string, vmId: string): string {
  return vmId.includes('/') ? vmId : `${homeHostId}/${vmId}`;
}
