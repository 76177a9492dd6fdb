import { type AcsState, type Bdf, generateHost, HOST_KINDS, type HostTopology, type PcieType, type PciDevice } from '@luo-fleet/topology';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACS_QUIRKS, type AcsQuirk, ENABLE_ACS_QUIRKS } from './acs-quirks';
import { buildPreservationSet } from './plan';
import { DEVICE_REASONS } from './reason';
import { hostOf, pciDevice } from './topology.fixture';

/*
 * The oracle: a deliberately plain re-statement of the rules (linear scans, sets, per-flag checks),
 * sharing no code with plan.ts, rules.ts or acs-path.ts.
 */
const POLICY: Record<PcieType, 'never' | 'ports' | 'if-multifunction'> = {
  conventional: 'never',
  pci_to_pcie_bridge: 'never',
  pcie_to_pci_bridge: 'never',
  rc_event_collector: 'never',
  unknown: 'never',
  root_port: 'ports',
  downstream_port: 'ports',
  endpoint: 'if-multifunction',
  upstream_port: 'if-multifunction',
  legacy_endpoint: 'if-multifunction',
  rc_integrated_endpoint: 'if-multifunction',
};

function naiveAcsOk(d: PciDevice): boolean {
  const policy = POLICY[d.pcieType];
  if (policy === 'never') return false;
  if (policy === 'if-multifunction' && !d.multifunction) return true;
  if (d.acs.state !== 'present') return false;
  const { capability, control } = d.acs;
  // SV, RR, CR, UF: each must be enabled unless the capability does not offer it (hard-wired).
  return [0x01, 0x04, 0x08, 0x10].every((flag) => (capability & flag) === 0 || (control & flag) !== 0);
}

function naiveVerdicts(t: HostTopology, requested: Bdf[] | undefined, profile: string, strict: boolean) {
  const find = (bdf: Bdf) => t.devices.find((d) => d.bdf === bdf);
  const bdfs = requested ?? t.devices.filter((d) => d.driver === 'vfio-pci').map((d) => d.bdf);
  return bdfs.map((bdf) => {
    const d = find(bdf);
    if (d === undefined) return { bdf, reasons: ['NOT_FOUND'], acsBlocker: undefined, groupMembers: [] as Bdf[] };
    const found = new Set<string>();
    if (d.isVirtfn) found.add('IS_VIRTFN');
    if (profile === 'singleton-group') {
      if (d.isPhysfn) found.add('IS_PHYSFN');
      if (d.iommuGroup === null) found.add('NO_IOMMU_GROUP');
      else if (t.devices.some((x) => x.iommuGroup === d.iommuGroup && x.bdf !== d.bdf)) found.add('GROUP_NOT_SINGLETON');
    } else {
      const path = [d, ...d.parentChain.map(find)].filter((x): x is PciDevice => x !== undefined);
      const listed = (x: PciDevice, table: readonly AcsQuirk[]) => table.some((q) => q.vendor === x.vendor && x.device >= q.first && x.device <= q.last);
      // acs-carried: any ACS quirk on the path; v9: an enable-ACS quirk, which matches root ports only.
      const quirky =
        profile === 'acs-carried'
          ? path.some((x) => listed(x, ACS_QUIRKS))
          : path.some((x) => (x.pcieType === 'root_port' || x.pcieType === 'unknown') && listed(x, ENABLE_ACS_QUIRKS));
      if (quirky) found.add('ACS_PATH_NOT_ENABLED');
    }
    let acsBlocker: Bdf | undefined;
    if (strict) {
      acsBlocker = [d.bdf, ...d.parentChain].find((b) => {
        const x = find(b);
        return x === undefined || !naiveAcsOk(x);
      });
      if (acsBlocker !== undefined) found.add('ACS_PATH_NOT_ENABLED');
    }
    const groupMembers = d.iommuGroup === null ? [] : t.devices.filter((x) => x.iommuGroup === d.iommuGroup).map((x) => x.bdf);
    return { bdf, reasons: DEVICE_REASONS.filter((r) => found.has(r)), acsBlocker, groupMembers };
  });
}

function checkAgainstOracle(t: HostTopology, requested: Bdf[] | undefined, profile: string, strict: boolean): void {
  const set = buildPreservationSet(t, requested, { profile, strictAcs: strict });
  const actual = set.devices.map((v) => ({ bdf: v.bdf, reasons: v.reasons, acsBlocker: v.acsBlocker, groupMembers: v.groupMembers }));
  const expected = naiveVerdicts(t, requested, profile, strict);
  expect(actual).toEqual(expected);
  for (const v of set.devices) {
    expect(v.preservable).toBe(v.reasons.length === 0);
    expect(Object.keys(v.details).sort()).toEqual([...v.reasons].sort());
  }
  expect(set.summary.preservable).toBe(expected.filter((v) => v.reasons.length === 0).length);
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const PCIE_TYPES = Object.keys(POLICY) as PcieType[];
const IDS: Array<[number, number]> = [
  [0x10de, 0x2330],
  [0x8086, 0x10fb], // quirk: mf endpoint
  [0x1def, 0xe007], // quirk: Ampere root port
  [0x8086, 0x8c10], // quirks: Lynxpoint-H PCH root port (enable-ACS quirk too)
  [0x8086, 0x9c90], // enable-ACS quirk only: Wildcat PCH root port
  [0x15b3, 0x101d],
];

const arbAcs: fc.Arbitrary<AcsState> = fc.oneof(
  fc.constant<AcsState>({ state: 'absent' }),
  fc.constant<AcsState>({ state: 'unknown' }),
  fc.record({ state: fc.constant('present' as const), capability: fc.integer({ min: 0, max: 0x7f }), control: fc.integer({ min: 0, max: 0x7f }) }),
);

const arbDeviceFacts = fc.record({
  parent: fc.option(fc.nat(), { nil: undefined }),
  pcieType: fc.constantFrom(...PCIE_TYPES),
  multifunction: fc.boolean(),
  acs: arbAcs,
  group: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  isVirtfn: fc.boolean(),
  isPhysfn: fc.boolean(),
  driver: fc.constantFrom('vfio-pci', 'nvme', null),
  id: fc.constantFrom(...IDS),
  // A bridge sysfs did not show: present in parent chains, absent from the device list.
  hidden: fc.integer({ min: 0, max: 11 }).map((n) => n === 0),
});

const arbTopology = fc.array(arbDeviceFacts, { minLength: 1, maxLength: 10 }).map((facts) => {
  const bdfs = facts.map((_, i) => `0000:${hex2(i + 1)}:00.0`);
  const chains: Bdf[][] = [];
  facts.forEach((f, i) => {
    const parent = i > 0 && f.parent !== undefined ? f.parent % i : undefined;
    chains.push(parent === undefined ? [] : [bdfs[parent], ...chains[parent]]);
  });
  const devices = facts
    .map((f, i) =>
      pciDevice(bdfs[i], {
        parentChain: chains[i],
        pcieType: f.pcieType,
        multifunction: f.multifunction,
        acs: f.acs,
        iommuGroup: f.group,
        isVirtfn: f.isVirtfn,
        isPhysfn: f.isPhysfn,
        driver: f.driver,
        vendor: f.id[0],
        device: f.id[1],
      }),
    )
    .filter((_, i) => !facts[i].hidden);
  return hostOf(devices);
});

const arbRequest = fc.option(fc.array(fc.integer({ min: 1, max: 14 }).map((n) => `0000:${hex2(n)}:00.0`), { maxLength: 8 }), {
  nil: undefined,
});
const arbProfile = fc.constantFrom('singleton-group', 'acs-carried', 'pci-liveupdate-v9');

describe('buildPreservationSet agrees with a naive recomputation', () => {
  it('on random topologies, requests, profiles and modes', () => {
    fc.assert(
      fc.property(arbTopology, arbRequest, arbProfile, fc.boolean(), (t, requested, profile, strict) => {
        checkAgainstOracle(t, requested, profile, strict);
      }),
      { numRuns: 500 },
    );
  });

  it('on generated fleet hosts of every kind', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.nat(10_000),
        fc.constantFrom(...HOST_KINDS),
        arbProfile,
        fc.boolean(),
        fc.boolean(),
        (seed, index, kind, profile, strict, everything) => {
          const { topology } = generateHost(seed, index, { kind });
          checkAgainstOracle(topology, everything ? topology.devices.map((d) => d.bdf) : undefined, profile, strict);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds both eligible and ineligible generated hosts, by default and in strict mode', () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const { topology } = generateHost(11, i, { devices: 32 });
      const plain = buildPreservationSet(topology, undefined).summary.eligible;
      const strict = buildPreservationSet(topology, undefined, { strictAcs: true }).summary.eligible;
      outcomes.add(`${plain}/${strict}`);
    }
    // Eligible in both, in neither, and eligible only until ACS is checked (acs override hosts).
    expect(outcomes).toEqual(new Set(['true/true', 'false/false', 'true/false']));
  });
});
