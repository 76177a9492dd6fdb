import type { Bdf, Vm } from '@luo-fleet/topology';
import type { DeviceVerdict, VmCounts, VmSummary, VmVerdict } from './preservation-set';
import { VM_REASONS, type VmReason } from './reason';
import { VM_RULES } from './vm-rules';

/**
 * Judges VMs against the verdicts of their devices (design 4.5): a VM is preservable only when all
 * its devices are and its memory and devices pass the VM rules. `deviceVerdict` must answer for every
 * device a VM holds; buildPreservationSet with `vms` is the host-level entry that provides them.
 */
export function judgeVms(vms: readonly Vm[], deviceVerdict: (bdf: Bdf) => DeviceVerdict): VmVerdict[] {
  return vms.map((vm) => judgeVm(vm, vm.devices.map(deviceVerdict)));
}

function judgeVm(vm: Vm, devices: readonly DeviceVerdict[]): VmVerdict {
  const reasons: VmReason[] = [];
  const details: Partial<Record<VmReason, string>> = {};
  for (const rule of VM_RULES) {
    const detail = rule.check(vm, devices);
    if (detail === null) continue;
    reasons.push(rule.reason);
    details[rule.reason] = detail;
  }
  return {
    id: vm.id,
    preservable: reasons.length === 0,
    reasons,
    devices: vm.devices,
    rejectedDevices: devices.filter((d) => !d.preservable).map((d) => ({ bdf: d.bdf, reasons: d.reasons })),
    details,
  };
}

/** Counts VMs by verdict and names, per reason, what would have to change. */
export function summarizeVms(verdicts: readonly VmVerdict[]): VmSummary {
  const byReason: Partial<Record<VmReason, number>> = {};
  let preservable = 0;
  for (const v of verdicts) {
    if (v.preservable) preservable++;
    for (const r of v.reasons) byReason[r] = (byReason[r] ?? 0) + 1;
  }
  const changes = VM_RULES.filter((rule) => byReason[rule.reason] !== undefined).map((rule) => rule.change(byReason[rule.reason] ?? 0));
  return { total: verdicts.length, preservable, rejected: verdicts.length - preservable, byReason, changes };
}

export function emptyVmCounts(): VmCounts {
  return { total: 0, preservable: 0, rejected: 0, byReason: {} };
}

/** Adds one host's VM summary into fleet-wide counts (byReason kept in design 4.5 order). */
export function addVmCounts(into: VmCounts, host: VmCounts): VmCounts {
  into.total += host.total;
  into.preservable += host.preservable;
  into.rejected += host.rejected;
  const byReason: Partial<Record<VmReason, number>> = {};
  for (const r of VM_REASONS) {
    const n = (into.byReason[r] ?? 0) + (host.byReason[r] ?? 0);
    if (n > 0) byReason[r] = n;
  }
  into.byReason = byReason;
  return into;
}
