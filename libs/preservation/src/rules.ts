import type { Bdf, PciDevice } from '@luo-fleet/topology';
import { acsPathVerdict } from './acs-path';
import { acsQuirkFor } from './acs-quirks';
import type { IndexedHost } from './indexed-host';
import { DEVICE_REASONS, type DeviceReason } from './reason';

/** Why a rule rejects a device. */
export interface RuleFinding {
  detail: string;
  /** The device on the ACS path that breaks it (strict ACS rule only). */
  blocker?: Bdf;
}

export interface RuleOptions {
  strictAcs: boolean;
}

export interface PreservationRule {
  id: string;
  reason: DeviceReason;
  /** One line: why the kernel refuses such a device. */
  why: string;
  /** Applied only in strict mode (`--strict-acs`). */
  strictOnly: boolean;
  /** null when the device passes; allocation happens only on rejection. */
  check(device: PciDevice, host: IndexedHost, options: RuleOptions): RuleFinding | null;
}

export interface RuleProfile {
  name: string;
  /** The kernel revision whose rules this is. */
  kernel: string;
  /** Rules in the order the kernel applies them, which is also design 4.1 reason order. */
  rules: readonly PreservationRule[];
}

export const DEFAULT_PROFILE = 'singleton-group';

// ---- the rules, each written once and shared by the profiles that use it ----

const notVirtfn: PreservationRule = {
  id: 'not-virtfn',
  reason: 'IS_VIRTFN',
  why: 'A VF exists only while its PF keeps SR-IOV enabled, which the new kernel re-initialises.',
  strictOnly: false,
  check: (d) => (d.isVirtfn ? { detail: `${d.bdf} is a virtual function of ${d.physfn ?? 'an unknown PF'}` } : null),
};

const notPhysfn: PreservationRule = {
  id: 'not-physfn',
  reason: 'IS_PHYSFN',
  why: 'A PF owns SR-IOV state (VF count, VF BARs) that is not carried across kexec.',
  strictOnly: false,
  check: (d) =>
    d.isPhysfn
      ? { detail: `${d.bdf} has the SR-IOV capability (${d.sriovTotalVfs} VFs possible, ${d.virtfns.length} enabled)` }
      : null,
};

const hasIommuGroup: PreservationRule = {
  id: 'has-iommu-group',
  reason: 'NO_IOMMU_GROUP',
  why: 'Preserved DMA must stay behind the IOMMU, so the device needs a group to be checked against.',
  strictOnly: false,
  check: (d) => (d.iommuGroup === null ? { detail: `${d.bdf} is not in any IOMMU group` } : null),
};

const singletonGroup: PreservationRule = {
  id: 'singleton-group',
  reason: 'GROUP_NOT_SINGLETON',
  why: 'DMA continues through kexec, so the group must not change; v3 allows only single-device groups.',
  strictOnly: false,
  check: (d, host) => {
    if (d.iommuGroup === null) return null;
    const members = host.groupMembers(d.iommuGroup);
    if (members.length === 0 || (members.length === 1 && members[0] === d.bdf)) return null;
    const others = members.filter((m) => m !== d.bdf);
    if (others.length === 0) return null;
    return { detail: `IOMMU group ${d.iommuGroup} also holds ${others.join(', ')}` };
  },
};

const acsPath: PreservationRule = {
  id: 'acs-path',
  reason: 'ACS_PATH_NOT_ENABLED',
  why: 'Strict: only full ACS (SV, RR, CR, UF) from the device to the root bus makes the group immutable.',
  strictOnly: true,
  check: (d, host) => {
    const path = acsPathVerdict(d, host);
    return path.enabled ? null : { detail: path.detail, blocker: path.blocker };
  },
};

const noAcsQuirk: PreservationRule = {
  id: 'no-acs-quirk',
  reason: 'ACS_PATH_NOT_ENABLED',
  why: 'ACS control words are inherited across kexec; isolation that exists only in a quirk cannot be.',
  strictOnly: false,
  check: (d, host) => {
    // Preserved devices include the bridges above the endpoint, and all of them inherit their ACS.
    let quirk = acsQuirkFor(d);
    let holder: PciDevice = d;
    for (let i = 0; quirk === undefined && i < d.parentChain.length; i++) {
      const bridge = host.device(d.parentChain[i]);
      if (bridge === undefined) continue;
      quirk = acsQuirkFor(bridge);
      holder = bridge;
    }
    if (quirk === undefined) return null;
    const id = `${hex4(holder.vendor)}:${hex4(holder.device)}`;
    return { detail: `${holder.bdf} (${id}) needs ACS quirk ${quirk.quirk}, which is not carried across Live Update` };
  },
};

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

// ---- the profiles: later kernels are added here as data ----

const PROFILES: Readonly<Record<string, RuleProfile>> = {
  /*
   * v3 of "PCI: liveupdate" (the seed), pci_liveupdate_preserve()/_retrieve():
   *  - the device must not be a VF; - it must not be a PF;
   *  - it must be the only device in its IOMMU group (which implies it has one).
   * Strict mode adds the pci_acs_path_enabled() check discussed on the list.
   */
  'singleton-group': {
    name: 'singleton-group',
    kernel: 'PCI: liveupdate v3 (singleton IOMMU groups)',
    rules: [notVirtfn, notPhysfn, hasIommuGroup, singletonGroup, acsPath],
  },
  /*
   * v6+ of the series: ACS flags are inherited by incoming preserved devices, so IOMMU groups keep
   * their shape without the singleton rule; VFs stay refused and so do devices needing ACS quirks.
   */
  'acs-carried': {
    name: 'acs-carried',
    kernel: 'PCI: liveupdate v6 (inherited ACS flags)',
    rules: [notVirtfn, noAcsQuirk, acsPath],
  },
};

/** A profile name that is not in the table. */
export class UnknownProfileError extends Error {
  constructor(
    readonly profile: string,
    readonly known: readonly string[],
  ) {
    super(`unknown rule profile ${JSON.stringify(profile)} (known: ${known.join(', ')})`);
    this.name = 'UnknownProfileError';
  }
}

export function listRuleProfiles(): RuleProfile[] {
  return Object.values(PROFILES);
}

export function ruleProfile(name: string): RuleProfile {
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (profile === undefined) throw new UnknownProfileError(name, Object.keys(PROFILES));
  return profile;
}

/** The rules a plan applies for a profile and mode, computed once per pair. */
export function activeRules(name: string, strictAcs: boolean): readonly PreservationRule[] {
  let pair = activeCache.get(name);
  if (pair === undefined) {
    const rules = ruleProfile(name).rules;
    pair = [rules.filter((r) => !r.strictOnly), rules];
    activeCache.set(name, pair);
  }
  return strictAcs ? pair[1] : pair[0];
}

const activeCache = new Map<string, [base: readonly PreservationRule[], strict: readonly PreservationRule[]]>();

// Reasons are reported in rule order, so the table itself must follow design 4.1.
for (const profile of Object.values(PROFILES)) {
  const order = profile.rules.map((r) => DEVICE_REASONS.indexOf(r.reason));
  if (order.some((o, i) => i > 0 && o < order[i - 1])) {
    throw new Error(`rule profile ${profile.name} lists reasons out of design 4.1 order`);
  }
}
