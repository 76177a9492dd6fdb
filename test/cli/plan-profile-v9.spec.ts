import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli';

interface Verdict {
  bdf: string;
  preservable: boolean;
  reasons: string[];
  details: Record<string, string>;
}

function plan(name: string, profile: string, ...flags: string[]): Verdict[] {
  const r = runCli(['plan', '--sysfs', fixture(name), '--json', '--profile', profile, ...flags]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout).devices;
}

const V9 = 'pci-liveupdate-v9';
const SEED = 'singleton-group';
const reasonsUnder = (name: string, profile: string, ...flags: string[]) => plan(name, profile, ...flags).map((v) => v.reasons);

// One fixture per rule of the v9 profile (and per rule it dropped), each also under the seed's profile.
describe('rule profile pci-liveupdate-v9 against singleton-group', () => {
  it('not-virtfn: VFs are refused by both', () => {
    expect(reasonsUnder('sriov-pf-vfs', V9)).toEqual([['IS_VIRTFN'], ['IS_VIRTFN']]);
    expect(reasonsUnder('sriov-pf-vfs', SEED)).toEqual([['IS_VIRTFN'], ['IS_VIRTFN']]);
  });

  it('PFs are accepted by v9 (its restrictions name only VFs), refused by the seed', () => {
    expect(reasonsUnder('sriov-pf-no-vfs', V9)).toEqual([[]]);
    expect(reasonsUnder('sriov-pf-no-vfs', SEED)).toEqual([['IS_PHYSFN']]);
    expect(reasonsUnder('sriov-pf-vfs', V9, '--devices', '0000:3b:00.0')).toEqual([[]]);
  });

  it('no-enable-acs-quirk: a device behind a PCH root port needing an enable-ACS quirk is refused by v9 only', () => {
    const [v9] = plan('pch-root-port-quirk', V9);
    expect(v9).toMatchObject({ bdf: '0000:02:00.0', preservable: false, reasons: ['ACS_PATH_NOT_ENABLED'] });
    expect(v9.details.ACS_PATH_NOT_ENABLED).toMatch(/^0000:00:1c\.0 \(8086:8c10\) needs pci_quirk_enable_intel_pch_acs/);
    expect(reasonsUnder('pch-root-port-quirk', SEED)).toEqual([[]]);
  });

  it('a quirk that only says ACS is enabled (multifunction NIC) blocks neither v9 nor the seed, unlike acs-carried', () => {
    expect(reasonsUnder('mf-endpoint-quirk', V9)).toEqual([[], []]);
    expect(reasonsUnder('mf-endpoint-quirk', SEED)).toEqual([[], []]);
    expect(reasonsUnder('mf-endpoint-quirk', 'acs-carried')).toEqual([['ACS_PATH_NOT_ENABLED'], ['ACS_PATH_NOT_ENABLED']]);
  });

  it('no group rule in v9: shared and missing IOMMU groups pass', () => {
    expect(reasonsUnder('multifunction-no-acs', V9)).toEqual([[], []]);
    expect(reasonsUnder('multifunction-no-acs', SEED)).toEqual([['GROUP_NOT_SINGLETON'], ['GROUP_NOT_SINGLETON']]);
    expect(reasonsUnder('no-iommu-group', V9)).toEqual([[]]);
    expect(reasonsUnder('no-iommu-group', SEED)).toEqual([['NO_IOMMU_GROUP']]);
  });

  it('acs-path: only with --strict-acs, in both', () => {
    expect(reasonsUnder('gpu-behind-switch', V9)).toEqual([[]]);
    expect(reasonsUnder('gpu-behind-switch', V9, '--strict-acs')).toEqual([['ACS_PATH_NOT_ENABLED']]);
    expect(reasonsUnder('gpu-behind-switch', SEED, '--strict-acs')).toEqual([['ACS_PATH_NOT_ENABLED']]);
  });
});
