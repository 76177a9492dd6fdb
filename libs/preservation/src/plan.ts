import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import { IndexedHost } from './indexed-host';
import type { DeviceVerdict, PlanOptions, PreservationSet, VmVerdict } from './preservation-set';
import type { DeviceReason } from './reason';
import { activeRules, DEFAULT_PROFILE, type PreservationRule, type RuleOptions } from './rules';
import { emptyList, emptyRecord } from './shared-empty';
import { judgeVm, summarizeVms } from './vm-verdict';

/** The driver that marks a device as handed to a VM, hence preserved by default. */
export const PASSTHROUGH_DRIVER = 'vfio-pci';

/**
 * Judges the requested devices of one host under a rule profile. `requested` undefined means every
 * device bound to vfio-pci; BDFs must already be canonical. With `opts.vms`, every device a VM holds
 * is judged too and each VM gets its verdict. Throws UnknownProfileError.
 */
export function buildPreservationSet(
  topology: HostTopology,
  requested: readonly Bdf[] | undefined,
  opts: PlanOptions = {},
): PreservationSet {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const strictAcs = opts.strictAcs === true;
  const vms = opts.vms;
  const plan = new DevicePlan(new IndexedHost(topology), activeRules(profile, strictAcs), { strictAcs }, vms !== undefined);

  if (requested === undefined) {
    const devices = topology.devices;
    for (let i = 0; i < devices.length; i++) if (devices[i].driver === PASSTHROUGH_DRIVER) plan.judgeAt(i);
  } else {
    for (let i = 0; i < requested.length; i++) plan.judgeRequested(requested[i]);
  }

  // VM devices are judged once each, after the requested ones, in VM order; a VM reads its devices' verdicts.
  let vmVerdicts: VmVerdict[] | undefined;
  if (vms !== undefined) {
    vmVerdicts = new Array<VmVerdict>(vms.length);
    for (let i = 0; i < vms.length; i++) vmVerdicts[i] = judgeVm(vms[i], plan.verdictsOf(vms[i].devices));
  }

  const verdicts = plan.verdicts;
  const set: PreservationSet = {
    profile,
    strictAcs,
    devices: verdicts,
    summary: {
      requested: verdicts.length,
      preservable: plan.preservable,
      rejected: verdicts.length - plan.preservable,
      eligible: plan.preservable === verdicts.length,
      byReason: plan.byReason,
    },
  };
  if (vmVerdicts !== undefined) {
    set.vms = vmVerdicts;
    set.summary.vms = summarizeVms(vmVerdicts);
  }
  return set;
}

/**
 * The device verdicts of one plan as they are made: in order, counted, and (when VMs will ask for
 * them) each device's first verdict kept by its topology position, so a VM finds its devices'
 * verdicts without a second index.
 */
class DevicePlan {
  readonly verdicts: DeviceVerdict[] = [];
  preservable = 0;
  /** Rejected devices by first reason. */
  readonly byReason: Partial<Record<DeviceReason, number>> = {};
  private readonly byPosition: Array<DeviceVerdict | undefined> | undefined;
  /** Verdicts of BDFs the host does not have, built on the first one. */
  private notFoundByBdf: Map<Bdf, DeviceVerdict> | undefined;
  /** Where the next lookup looks first: after the last device found, as requests follow topology order. */
  private guess = 0;

  constructor(
    private readonly host: IndexedHost,
    private readonly rules: readonly PreservationRule[],
    private readonly options: RuleOptions,
    keepForVms: boolean,
  ) {
    this.byPosition = keepForVms ? new Array<DeviceVerdict | undefined>(host.topology.devices.length) : undefined;
  }

  /** Judges the device at a topology position and records the verdict. */
  judgeAt(position: number): DeviceVerdict {
    const verdict = judge(this.host.topology.devices[position], this.host, this.rules, this.options);
    this.record(verdict);
    const byPosition = this.byPosition;
    if (byPosition !== undefined && byPosition[position] === undefined) byPosition[position] = verdict;
    return verdict;
  }

  /** Judges a requested BDF and records the verdict, even when the same BDF was requested before. */
  judgeRequested(bdf: Bdf): void {
    const position = this.positionOf(bdf);
    if (position >= 0) this.judgeAt(position);
    else this.recordNotFound(bdf);
  }

  /** The verdicts of a VM's devices in its order, judging and recording the ones not judged yet. */
  verdictsOf(bdfs: readonly Bdf[]): DeviceVerdict[] {
    if (bdfs.length === 0) return emptyList();
    const verdicts = new Array<DeviceVerdict>(bdfs.length);
    for (let i = 0; i < bdfs.length; i++) verdicts[i] = this.verdictOf(bdfs[i]);
    return verdicts;
  }

  private verdictOf(bdf: Bdf): DeviceVerdict {
    const position = this.positionOf(bdf);
    if (position >= 0) return (this.byPosition as Array<DeviceVerdict | undefined>)[position] ?? this.judgeAt(position);
    return this.notFoundByBdf?.get(bdf) ?? this.recordNotFound(bdf);
  }

  private positionOf(bdf: Bdf): number {
    const position = this.host.positionOf(bdf, this.guess);
    if (position >= 0) this.guess = position + 1;
    return position;
  }

  private recordNotFound(bdf: Bdf): DeviceVerdict {
    const verdict = notFound(bdf);
    this.record(verdict);
    if (this.byPosition !== undefined) {
      const byBdf = (this.notFoundByBdf ??= new Map());
      if (!byBdf.has(bdf)) byBdf.set(bdf, verdict);
    }
    return verdict;
  }

  private record(verdict: DeviceVerdict): void {
    this.verdicts.push(verdict);
    if (verdict.preservable) this.preservable++;
    else this.byReason[verdict.reasons[0]] = (this.byReason[verdict.reasons[0]] ?? 0) + 1;
  }
}

function judge(
  device: PciDevice,
  host: IndexedHost,
  rules: readonly PreservationRule[],
  options: RuleOptions,
): DeviceVerdict {
  // Reasons and details are built on the first finding: a preservable device shares the empty ones.
  let reasons: DeviceReason[] | undefined;
  let details: Partial<Record<DeviceReason, string>> | undefined;
  let blocker: Bdf | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const finding = rule.check(device, host, options);
    if (finding === null) continue;
    if (reasons === undefined || details === undefined) {
      reasons = [rule.reason];
      details = {};
      details[rule.reason] = finding.detail;
    } else if (reasons[reasons.length - 1] === rule.reason) {
      // Two rules of a profile may share a reason code (the codes are a fixed contract): one entry.
      details[rule.reason] += `; ${finding.detail}`;
    } else {
      reasons.push(rule.reason);
      details[rule.reason] = finding.detail;
    }
    if (blocker === undefined) blocker = finding.blocker;
  }
  const verdict: DeviceVerdict = {
    bdf: device.bdf,
    preservable: reasons === undefined,
    reasons: reasons ?? emptyList(),
    iommuGroup: device.iommuGroup,
    groupMembers: groupMembersOf(device, host),
    details: details ?? emptyRecord(),
  };
  if (blocker !== undefined) verdict.acsBlocker = blocker;
  return verdict;
}

function groupMembersOf(device: PciDevice, host: IndexedHost): Bdf[] {
  if (device.iommuGroup === null) return emptyList();
  const members = host.groupMembers(device.iommuGroup);
  // Shared with the topology, not copied: verdicts are read, never edited.
  return members.length > 0 ? (members as Bdf[]) : [device.bdf];
}

function notFound(bdf: Bdf): DeviceVerdict {
  return {
    bdf,
    preservable: false,
    reasons: ['NOT_FOUND'],
    iommuGroup: null,
    groupMembers: emptyList(),
    details: { NOT_FOUND: `no PCI device ${bdf} on this host` },
  };
}
