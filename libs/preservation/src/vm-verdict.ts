import type { Bdf, Vm } from '@luo-fleet/topology';
import type { DeviceVerdict, VmCounts, VmSummary, VmVerdict } from './preservation-set';
import { VM_REASONS, type VmReason } from './reason';
import { emptyList, emptyRecord } from './shared-empty';
import { VM_RULES } from './vm-rules';

/**
 * Judges VMs against the verdicts of their devices (design 4.5): a VM is preservable only when all
 * its devices are and its memory and devices pass the VM rules. `deviceVerdict` must answer for every
 * device a VM holds; buildPreservationSet with `vms` is the host-level entry that provides them.
 */
export function judgeVms(vms: readonly Vm[], deviceVerdict: (bdf: Bdf) => DeviceVerdict): VmVerdict[] {
  return vms.map((vm) => judgeVm(vm, vm.devices.map(deviceVerdict)));
}

/** One VM's verdict from the verdicts of its devices, given in the VM's order. */
export function judgeVm(vm: Vm, devices: readonly DeviceVerdict[]): VmVerdict {
  // Reasons and details are built on the first failed rule: a preservable VM shares the empty ones.
  let reasons: VmReason[] | undefined;
  let details: Partial<Record<VmReason, string>> | undefined;
  for (let i = 0; i < VM_RULES.length; i++) {
    const rule = VM_RULES[i];
    const detail = rule.check(vm, devices);
    if (detail === null) continue;
    if (reasons === undefined || details === undefined) {
      reasons = [rule.reason];
      details = {};
    } else {
      reasons.push(rule.reason);
    }
    details[rule.reason] = detail;
  }
  return {
    id: vm.id,
    preservable: reasons === undefined,
    reasons: reasons ?? emptyList(),
    devices: vm.devices,
    rejectedDevices: rejectedDevices(devices),
    details: details ?? emptyRecord(),
  };
}

function rejectedDevices(devices: readonly DeviceVerdict[]): VmVerdict['rejectedDevices'] {
  let rejected: VmVerdict['rejectedDevices'] | undefined;
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    if (!d.preservable) (rejected ??= []).push({ bdf: d.bdf, reasons: d.reasons });
  }
  return rejected ?? emptyList();
}

/** Summary lines by VM rule and count, each made once: hosts repeat the same few counts. */
const CHANGE_LINES: string[][] = VM_RULES.map(() => []);
const MAX_CACHED_COUNT = 1024;

function changeLine(rule: number, count: number): string {
  if (count > MAX_CACHED_COUNT) return VM_RULES[rule].change(count);
  return (CHANGE_LINES[rule][count] ??= VM_RULES[rule].change(count));
}

/** Counts VMs by verdict and names, per reason, what would have to change. */
export function summarizeVms(verdicts: readonly VmVerdict[]): VmSummary {
  const byReason: Partial<Record<VmReason, number>> = {};
  let preservable = 0;
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i];
    if (v.preservable) preservable++;
    for (let j = 0; j < v.reasons.length; j++) byReason[v.reasons[j]] = (byReason[v.reasons[j]] ?? 0) + 1;
  }
  const changes: string[] = [];
  for (let i = 0; i < VM_RULES.length; i++) {
    const count = byReason[VM_RULES[i].reason];
    if (count !== undefined) changes.push(changeLine(i, count));
  }
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
