import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import { IndexedHost } from './indexed-host';
import type { DeviceVerdict, PlanOptions, PreservationSet } from './preservation-set';
import type { DeviceReason } from './reason';
import { activeRules, DEFAULT_PROFILE, type PreservationRule, type RuleOptions } from './rules';
import { judgeVms, summarizeVms } from './vm-verdict';

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
  const rules = activeRules(profile, strictAcs);
  const options: RuleOptions = { strictAcs };
  const host = new IndexedHost(topology);
  const verdicts: DeviceVerdict[] = [];
  const byReason: Partial<Record<DeviceReason, number>> = {};
  let preservable = 0;

  const record = (verdict: DeviceVerdict) => {
    verdicts.push(verdict);
    if (verdict.preservable) preservable++;
    else byReason[verdict.reasons[0]] = (byReason[verdict.reasons[0]] ?? 0) + 1;
  };

  if (requested === undefined) {
    const devices = topology.devices;
    for (let i = 0; i < devices.length; i++) {
      if (devices[i].driver === PASSTHROUGH_DRIVER) record(judge(devices[i], host, rules, options));
    }
  } else {
    for (let i = 0; i < requested.length; i++) {
      const device = host.device(requested[i]);
      record(device === undefined ? notFound(requested[i]) : judge(device, host, rules, options));
    }
  }

  // VM devices are judged once each, after the requested ones; a VM reads its devices' verdicts.
  const vms = opts.vms;
  const judged = vms === undefined ? undefined : new Map<Bdf, DeviceVerdict>();
  if (vms !== undefined && judged !== undefined) {
    for (const verdict of verdicts) if (!judged.has(verdict.bdf)) judged.set(verdict.bdf, verdict);
    for (const vm of vms) {
      for (const bdf of vm.devices) {
        if (judged.has(bdf)) continue;
        const device = host.device(bdf);
        const verdict = device === undefined ? notFound(bdf) : judge(device, host, rules, options);
        judged.set(bdf, verdict);
        record(verdict);
      }
    }
  }

  const set: PreservationSet = {
    profile,
    strictAcs,
    devices: verdicts,
    summary: {
      requested: verdicts.length,
      preservable,
      rejected: verdicts.length - preservable,
      eligible: preservable === verdicts.length,
      byReason,
    },
  };
  if (vms !== undefined && judged !== undefined) {
    set.vms = judgeVms(vms, (bdf) => judged.get(bdf) as DeviceVerdict);
    set.summary.vms = summarizeVms(set.vms);
  }
  return set;
}

function judge(
  device: PciDevice,
  host: IndexedHost,
  rules: readonly PreservationRule[],
  options: RuleOptions,
): DeviceVerdict {
  const reasons: DeviceReason[] = [];
  const details: Partial<Record<DeviceReason, string>> = {};
  let blocker: Bdf | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const finding = rule.check(device, host, options);
    if (finding === null) continue;
    // Two rules of a profile may share a reason code (the codes are a fixed contract): one entry.
    if (reasons.length > 0 && reasons[reasons.length - 1] === rule.reason) {
      details[rule.reason] += `; ${finding.detail}`;
    } else {
      reasons.push(rule.reason);
      details[rule.reason] = finding.detail;
    }
    if (blocker === undefined) blocker = finding.blocker;
  }
  const verdict: DeviceVerdict = {
    bdf: device.bdf,
    preservable: reasons.length === 0,
    reasons,
    iommuGroup: device.iommuGroup,
    groupMembers: groupMembersOf(device, host),
    details,
  };
  if (blocker !== undefined) verdict.acsBlocker = blocker;
  return verdict;
}

function groupMembersOf(device: PciDevice, host: IndexedHost): Bdf[] {
  if (device.iommuGroup === null) return [];
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
    groupMembers: [],
    details: { NOT_FOUND: `no PCI device ${bdf} on this host` },
  };
}
