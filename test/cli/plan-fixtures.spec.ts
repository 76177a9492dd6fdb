import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli';

interface Verdict {
  bdf: string;
  preservable: boolean;
  reasons: string[];
  iommuGroup: number | null;
  groupMembers: string[];
  acsBlocker?: string;
}

function plan(name: string, ...flags: string[]): Verdict[] {
  const r = runCli(['plan', '--sysfs', fixture(name), '--json', ...flags]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout).devices;
}

const verdictOf = (verdicts: Verdict[], bdf: string) => {
  const v = verdicts.find((x) => x.bdf === bdf);
  if (!v) throw new Error(`no verdict for ${bdf}`);
  return v;
};

// Every plan-time reason code of design 4.1, each produced by a shipped fixture.
describe('plan verdicts per fixture host', () => {
  it('singleton-endpoint: preservable, also in strict mode', () => {
    for (const strict of [[], ['--strict-acs']]) {
      expect(plan('singleton-endpoint', ...strict)).toEqual([
        expect.objectContaining({ bdf: '0000:01:00.0', preservable: true, reasons: [], iommuGroup: 2, groupMembers: ['0000:01:00.0'] }),
      ]);
    }
  });

  it('NOT_FOUND for a device the host does not have', () => {
    expect(plan('singleton-endpoint', '--devices', '0000:42:00.0')[0]).toMatchObject({ preservable: false, reasons: ['NOT_FOUND'] });
  });

  it('IS_VIRTFN for VFs, IS_PHYSFN for their PF', () => {
    const vfs = plan('sriov-pf-vfs');
    expect(vfs.map((v) => [v.bdf, v.reasons[0]])).toEqual([
      ['0000:3b:00.2', 'IS_VIRTFN'],
      ['0000:3b:00.3', 'IS_VIRTFN'],
    ]);
    expect(plan('sriov-pf-vfs', '--devices', '0000:3b:00.0')[0].reasons).toEqual(['IS_PHYSFN']);
  });

  it('IS_PHYSFN for a PF with no VF enabled', () => {
    expect(plan('sriov-pf-no-vfs')[0]).toMatchObject({ bdf: '0000:5e:00.0', preservable: false, reasons: ['IS_PHYSFN'] });
  });

  it('NO_IOMMU_GROUP when the IOMMU is off', () => {
    expect(plan('no-iommu-group')[0]).toMatchObject({ bdf: '0000:01:00.0', reasons: ['NO_IOMMU_GROUP'], iommuGroup: null });
  });

  it('GROUP_NOT_SINGLETON lists the devices sharing the group', () => {
    expect(plan('shared-root-ports')[0]).toMatchObject({
      bdf: '0000:02:00.0',
      reasons: ['GROUP_NOT_SINGLETON'],
      iommuGroup: 5,
      groupMembers: ['0000:00:1c.0', '0000:00:1c.4', '0000:02:00.0'],
    });
    const mf = plan('multifunction-no-acs');
    expect(mf.map((v) => v.reasons)).toEqual([['GROUP_NOT_SINGLETON'], ['GROUP_NOT_SINGLETON']]);
    expect(plan('conventional-bridge')[0]).toMatchObject({ bdf: '0000:03:00.0', reasons: ['GROUP_NOT_SINGLETON'] });
  });

  it('ACS_PATH_NOT_ENABLED only in strict mode, naming the switch port that breaks the path', () => {
    expect(plan('gpu-behind-switch')[0]).toMatchObject({ bdf: '0000:19:00.0', preservable: true });
    expect(plan('gpu-behind-switch', '--strict-acs')[0]).toMatchObject({
      bdf: '0000:19:00.0',
      preservable: false,
      reasons: ['ACS_PATH_NOT_ENABLED'],
      acsBlocker: '0000:18:00.0',
    });
    expect(plan('multifunction-no-acs', '--strict-acs')[0]).toMatchObject({ reasons: ['GROUP_NOT_SINGLETON', 'ACS_PATH_NOT_ENABLED'], acsBlocker: '0000:04:00.0' });
  });

  it('short-config: preservable by default; strict cannot show ACS enabled', () => {
    expect(plan('short-config')[0]).toMatchObject({ bdf: '0000:01:00.0', preservable: true });
    expect(plan('short-config', '--strict-acs')[0]).toMatchObject({ preservable: false, reasons: ['ACS_PATH_NOT_ENABLED'] });
  });

  it('wide-domain: the 5-digit domain device is judged and printed in full', () => {
    expect(plan('wide-domain')).toEqual([expect.objectContaining({ bdf: '10000:01:00.0', preservable: true, groupMembers: ['10000:01:00.0'] })]);
  });

  it('sample-host: the mix of verdicts', () => {
    const all = plan('sample-host');
    const first = (bdf: string) => verdictOf(all, bdf).reasons[0] ?? 'ok';
    expect(first('0000:17:00.0')).toBe('ok');
    expect(first('0000:3b:00.5')).toBe('IS_VIRTFN');
    expect(first('0000:5e:00.0')).toBe('IS_PHYSFN');
    expect(first('0000:03:00.0')).toBe('GROUP_NOT_SINGLETON');
    expect(first('0000:b6:00.0')).toBe('ok');
    expect(verdictOf(plan('sample-host', '--strict-acs'), '0000:b6:00.0')).toMatchObject({ reasons: ['ACS_PATH_NOT_ENABLED'], acsBlocker: '0000:b3:08.0' });
  });
});
