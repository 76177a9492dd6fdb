import type { Vm } from '@luo-fleet/topology';
import { commaList } from './comma-list';
import type { DeviceVerdict } from './preservation-set';
import { VM_REASONS, type VmReason } from './reason';

/**
 * One rule a VM must pass to ride a Live Update. VM rules are the kernel's, not a rule profile's:
 * every profile judges devices its own way, and the VM rules build on those device verdicts.
 */
export interface VmRule {
  id: string;
  reason: VmReason;
  /** One line: why such a VM cannot ride the update. */
  why: string;
  /** The summary line naming what would have to change, for `count` VMs. */
  change(count: number): string;
  /** A detail when the VM fails the rule, else null. `devices` are the verdicts of its devices, in its order. */
  check(vm: Vm, devices: readonly DeviceVerdict[]): string | null;
}

const vms = (count: number, one: string, many: string) => `${count} ${count === 1 ? `VM ${one}` : `VMs ${many}`}`;

/** The rules in design 4.5 order, which is also the order their reasons are reported in. */
export const VM_RULES: readonly VmRule[] = [
  {
    id: 'devices-preservable',
    reason: 'DEVICE_NOT_PRESERVABLE',
    why: 'Assigned devices keep doing DMA into the guest through kexec; one the kernel will not preserve takes the VM with it.',
    change: (n) => vms(n, 'holds a device', 'hold devices') + ' the kernel will not preserve',
    check: (_vm, devices) => {
      let detail: string | null = null;
      for (let i = 0; i < devices.length; i++) {
        const d = devices[i];
        if (d.preservable) continue;
        const line = `${d.bdf} ${commaList(d.reasons)}`;
        detail = detail === null ? line : `${detail}; ${line}`;
      }
      return detail;
    },
  },
  {
    id: 'memory-memfd',
    reason: 'MEMORY_NOT_MEMFD',
    why: 'LUO carries files across kexec, and guest memory only as a preserved memfd; anonymous or file-backed memory is lost.',
    change: (n) => vms(n, 'uses', 'use') + ' anonymous or file-backed memory instead of a memfd',
    check: (vm) =>
      vm.memory.backing === 'anonymous' || vm.memory.backing === 'file'
        ? `${vm.memory.sizeMiB} MiB of ${vm.memory.backing === 'file' ? 'file-backed' : 'anonymous'} guest memory`
        : null,
  },
  {
    id: 'memory-not-hugetlb',
    reason: 'MEMORY_HUGETLB',
    why: 'memfd preservation (mm/memfd_luo.c) takes shmem memfds only and refuses one created with MFD_HUGETLB.',
    change: (n) => vms(n, 'uses', 'use') + ' hugetlb memory',
    check: (vm) => (vm.memory.backing === 'memfd-hugetlb' ? `${vm.memory.sizeMiB} MiB of guest memory in an MFD_HUGETLB memfd` : null),
  },
  {
    id: 'ioas-immutable',
    reason: 'IOAS_MUTABLE',
    why: 'Preserving iommufd page tables freezes the IOAS for the window: with assigned devices, no balloon or virtio-mem may change mappings.',
    change: (n) => vms(n, 'has', 'have') + ' assigned devices and a balloon or virtio-mem device',
    check: (vm) => {
      if (vm.devices.length === 0 || (!vm.balloon && !vm.virtioMem)) return null;
      const resizers = vm.balloon && vm.virtioMem ? 'a balloon and a virtio-mem device' : vm.balloon ? 'a balloon' : 'a virtio-mem device';
      return `${resizers} beside ${vm.devices.length} assigned device${vm.devices.length === 1 ? '' : 's'}`;
    },
  },
];

// Reasons are reported in rule order, so the table itself must follow design 4.5.
if (VM_RULES.some((r, i) => VM_REASONS.indexOf(r.reason) !== i)) throw new Error('VM rules are out of design 4.5 order');
