import type { Bdf, PciDevice } from '@luo-fleet/topology';
import { acsPathVerdict } from './acs-path';
import { type AcsQuirk, acsQuirkFor, enableAcsQuirkFor } from './acs-quirks';
import { commaList } from './comma-list';
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
    const others = commaList(members, d.bdf);
    return others === '' ? null : { detail: `IOMMU group ${d.iommuGroup} also holds ${others}` };
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
    const found = quirkOnPath(d, host, acsQuirkFor);
    if (found === undefined) return null;
    return { detail: `${found.holder.bdf} (${idOf(found.holder)}) needs ACS quirk ${found.quirk.quirk}, which is not carried across Live Update` };
  },
};

/** The device itself or the nearest bridge above it that `quirkOf` names a quirk for, with that quirk. */
function quirkOnPath(
  d: PciDevice,
  host: IndexedHost,
  quirkOf: (device: PciDevice) => AcsQuirk | undefined,
): { holder: PciDevice; quirk: AcsQuirk } | undefined {
  let quirk = quirkOf(d);
  let holder: PciDevice = d;
  for (let i = 0; quirk === undefined && i < d.parentChain.length; i++) {
    const bridge = host.device(d.parentChain[i]);
    if (bridge === undefined) continue;
    quirk = quirkOf(bridge);
    holder = bridge;
  }
  return quirk === undefined ? undefined : { holder, quirk };
}

function idOf(device: PciDevice): string {
  return `${hex4(device.vendor)}:${hex4(device.device)}`;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

// ---- v9 of "PCI: liveupdate: PCI core support for Live Update" (Sep 2026), as merged into the
// liveupdate tree: each rule quotes the "Restrictions" of drivers/pci/liveupdate.c ----

const V9 = 'PCI liveupdate v9, drivers/pci/liveupdate.c';

const v9NotVirtfn: PreservationRule = {
  ...notVirtfn,
  why: `${V9} Restrictions: "The device cannot be a Virtual Function (VF)." (pci_liveupdate_preserve_device: is_virtfn, -EINVAL).`,
};

const v9NoEnableAcsQuirk: PreservationRule = {
  id: 'no-enable-acs-quirk',
  reason: 'ACS_PATH_NOT_ENABLED',
  why:
    `${V9} Restrictions: "The device cannot require device-specific quirks to enable Access Control Services (ACS)." ` +
    'Checked on the device and on every bridge above it, which are preserved with it (pci_need_dev_specific_enable_acs).',
  strictOnly: false,
  check: (d, host) => {
    const found = quirkOnPath(d, host, enableAcsQuirkFor);
    if (found === undefined) return null;
    return { detail: `${found.holder.bdf} (${idOf(found.holder)}) needs ${found.quirk.quirk} to enable ACS, and v9 refuses devices relying on ACS quirks` };
  },
};

const v9AcsPath: PreservationRule = {
  ...acsPath,
  why:
    'Strict (opt-in): v4 of the series required immutable singleton groups, ACS enabled up to the root port; ' +
    `${V9} adopts the ACS controls instead, so only --strict-acs still asks for the full path.`,
};

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
  /*
   * v9 of the series (Sep 2026, merged into the liveupdate tree): its Restrictions name VFs and
   * devices needing an enable-ACS quirk, on the path, nothing else. PFs are accepted; there is no
   * IOMMU group rule (ACS controls are adopted by the new kernel); the outgoing device table grows
   * on demand (a KHO block set since v7), so a device appearing after the first preserve no longer
   * fails with -ENOSPC.
   */
  'pci-liveupdate-v9': {
    name: 'pci-liveupdate-v9',
    kernel: 'PCI: liveupdate v9 (adopted ACS controls, enable-ACS quirks refused)',
    rules: [v9NotVirtfn, v9NoEnableAcsQuirk, v9AcsPath],
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
