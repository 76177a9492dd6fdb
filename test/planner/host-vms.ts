import type { Vm } from '@luo-fleet/topology';

/** A VM in the inventory's JSON form (design 4.5), memfd-shmem and without resizers unless told. */
export function vm(id: string, extra: Partial<Vm> = {}): Vm {
  return { id, devices: [], memory: { backing: 'memfd-shmem', sizeMiB: 4096 }, balloon: false, virtioMem: false, migratable: true, ...extra };
}

/**
 * VMs for physfnHost(): one per design 4.5 reason code and one that rides the Live Update.
 * 0000:01:00.0 is a PF (rejected IS_PHYSFN), 0000:02:00.0 a preservable singleton.
 */
export function everyReasonVms(): Vm[] {
  return [
    vm('vm-ok'),
    vm('vm-pf', { devices: ['0000:01:00.0'] }),
    vm('vm-anon', { memory: { backing: 'anonymous', sizeMiB: 2048 } }),
    vm('vm-huge', { memory: { backing: 'memfd-hugetlb', sizeMiB: 65536 } }),
    vm('vm-balloon', { devices: ['0000:02:00.0'], balloon: true }),
  ];
}
