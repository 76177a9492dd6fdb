import { MEMORY_BACKINGS, type Vm } from '@luo-fleet/topology';

/**
 * A VM as the inventory stores it: a tuple, not an object, because a host record is read whole on
 * every plan and rollout and a fleet holds millions of VMs. The field names of the inventory's JSON
 * form (design 4.5) live in the API; here only their order does.
 *   [id, devices, backing (index into MEMORY_BACKINGS), sizeMiB, flags, labels?]
 */
export type VmRecord = [string, string[], number, number, number, Record<string, string>?];

const BALLOON = 1;
const VIRTIO_MEM = 2;
const MIGRATABLE = 4;

export function encodeVms(vms: readonly Vm[]): string {
  return JSON.stringify(
    vms.map((vm): VmRecord => {
      const flags = (vm.balloon ? BALLOON : 0) | (vm.virtioMem ? VIRTIO_MEM : 0) | (vm.migratable ? MIGRATABLE : 0);
      const record: VmRecord = [vm.id, vm.devices, MEMORY_BACKINGS.indexOf(vm.memory.backing), vm.memory.sizeMiB, flags];
      if (vm.labels !== undefined) record.push({ ...vm.labels });
      return record;
    }),
  );
}

/** The VMs of a stored record; '' or a missing field is a host without VMs. */
export function decodeVms(text: string | null | undefined): Vm[] {
  if (!text) return [];
  return (JSON.parse(text) as VmRecord[]).map(([id, devices, backing, sizeMiB, flags, labels]) => {
    const vm: Vm = {
      id,
      devices,
      memory: { backing: MEMORY_BACKINGS[backing], sizeMiB },
      balloon: (flags & BALLOON) !== 0,
      virtioMem: (flags & VIRTIO_MEM) !== 0,
      migratable: (flags & MIGRATABLE) !== 0,
    };
    // Labels are the operator's: a null-prototype object keeps a `__proto__` key a plain key.
    if (labels !== undefined) vm.labels = Object.assign(Object.create(null) as Record<string, string>, labels);
    return vm;
  });
}
