import { describe, expect, it } from 'vitest';
import { buildPreservationSet } from './plan';
import { UnknownProfileError } from './rules';
import { hostOf, NO_ACS, pciDevice, rootPort } from './topology.fixture';

const rp = rootPort('0000:00:01.0', { iommuGroup: 1 });
const singleton = pciDevice('0000:01:00.0', { parentChain: [rp.bdf], iommuGroup: 2 });
const pf = pciDevice('0000:02:00.0', {
  parentChain: [rp.bdf],
  isPhysfn: true,
  sriovTotalVfs: 8,
  virtfns: ['0000:02:00.2'],
  iommuGroup: 3,
  driver: 'mlx5_core',
});
const vf = pciDevice('0000:02:00.2', { parentChain: [rp.bdf], isVirtfn: true, physfn: pf.bdf, iommuGroup: 4 });
const pfNoVfs = pciDevice('0000:03:00.0', { parentChain: [rp.bdf], isPhysfn: true, sriovTotalVfs: 64, iommuGroup: 5 });
const noGroup = pciDevice('0000:04:00.0', { parentChain: [rp.bdf], iommuGroup: null });
const gpu = pciDevice('0000:05:00.0', { parentChain: [rp.bdf], multifunction: true, iommuGroup: 6 });
const audio = pciDevice('0000:05:00.1', { parentChain: [rp.bdf], multifunction: true, iommuGroup: 6 });
const hostNvme = pciDevice('0000:06:00.0', { parentChain: [rp.bdf], iommuGroup: 7, driver: 'nvme' });
const host = hostOf([rp, singleton, pf, vf, pfNoVfs, noGroup, gpu, audio, hostNvme]);

const judge = (bdf: string, opts = {}) => buildPreservationSet(host, [bdf], opts).devices[0];

describe('singleton-group profile (the seed kernel)', () => {
  it('preserves a device alone in its group', () => {
    expect(judge(singleton.bdf)).toEqual({
      bdf: singleton.bdf,
      preservable: true,
      reasons: [],
      iommuGroup: 2,
      groupMembers: [singleton.bdf],
      details: {},
    });
  });

  it('refuses a VF, naming its PF', () => {
    const verdict = judge(vf.bdf);
    expect(verdict.reasons).toEqual(['IS_VIRTFN']);
    expect(verdict.details.IS_VIRTFN).toContain(pf.bdf);
  });

  it('refuses a PF with VFs enabled and one with none enabled', () => {
    expect(judge(pf.bdf).reasons).toEqual(['IS_PHYSFN']);
    expect(judge(pfNoVfs.bdf).reasons).toEqual(['IS_PHYSFN']);
    expect(judge(pfNoVfs.bdf).details.IS_PHYSFN).toMatch(/64 VFs possible, 0 enabled/);
  });

  it('refuses a device without a group, and only for that', () => {
    const verdict = judge(noGroup.bdf);
    expect(verdict.reasons).toEqual(['NO_IOMMU_GROUP']);
    expect(verdict.groupMembers).toEqual([]);
    expect(verdict.iommuGroup).toBeNull();
  });

  it('refuses a device sharing its group, listing the others', () => {
    const verdict = judge(gpu.bdf);
    expect(verdict.reasons).toEqual(['GROUP_NOT_SINGLETON']);
    expect(verdict.groupMembers).toEqual([gpu.bdf, audio.bdf]);
    expect(verdict.details.GROUP_NOT_SINGLETON).toBe(`IOMMU group 6 also holds ${audio.bdf}`);
  });

  it('reports every reason that applies, in design 4.1 order', () => {
    const everything = pciDevice('0000:09:00.0', {
      isVirtfn: true,
      physfn: '0000:08:00.0',
      isPhysfn: true,
      pcieType: 'conventional',
      iommuGroup: 3,
    });
    const grouped = hostOf([everything, pciDevice('0000:09:00.1', { iommuGroup: 3 })]);
    const verdict = buildPreservationSet(grouped, [everything.bdf], { strictAcs: true }).devices[0];
    expect(verdict.reasons).toEqual(['IS_VIRTFN', 'IS_PHYSFN', 'GROUP_NOT_SINGLETON', 'ACS_PATH_NOT_ENABLED']);
    expect(Object.keys(verdict.details).sort()).toEqual([...verdict.reasons].sort());
    const ungrouped = { ...everything, iommuGroup: null };
    const second = buildPreservationSet(hostOf([ungrouped]), [ungrouped.bdf], { strictAcs: true }).devices[0];
    expect(second.reasons).toEqual(['IS_VIRTFN', 'IS_PHYSFN', 'NO_IOMMU_GROUP', 'ACS_PATH_NOT_ENABLED']);
  });

  it('reports NOT_FOUND alone for a device the host does not have', () => {
    const set = buildPreservationSet(host, ['0000:aa:00.0'], { strictAcs: true });
    expect(set.devices).toEqual([
      {
        bdf: '0000:aa:00.0',
        preservable: false,
        reasons: ['NOT_FOUND'],
        iommuGroup: null,
        groupMembers: [],
        details: { NOT_FOUND: 'no PCI device 0000:aa:00.0 on this host' },
      },
    ]);
    expect(set.summary).toEqual({ requested: 1, preservable: 0, rejected: 1, eligible: false, byReason: { NOT_FOUND: 1 } });
  });
});

describe('strict ACS mode', () => {
  const brokenRp = rootPort('0000:00:02.0', { iommuGroup: 10, acs: NO_ACS });
  const behind = pciDevice('0000:10:00.0', { parentChain: [brokenRp.bdf], iommuGroup: 11 });
  const strictHost = hostOf([brokenRp, behind, { ...singleton, parentChain: [rp.bdf] }, rp]);

  it('adds ACS_PATH_NOT_ENABLED only when asked, naming the blocker', () => {
    expect(buildPreservationSet(strictHost, [behind.bdf]).devices[0]).toMatchObject({ preservable: true, reasons: [] });
    const verdict = buildPreservationSet(strictHost, [behind.bdf], { strictAcs: true }).devices[0];
    expect(verdict.reasons).toEqual(['ACS_PATH_NOT_ENABLED']);
    expect(verdict.acsBlocker).toBe(brokenRp.bdf);
    expect(verdict.details.ACS_PATH_NOT_ENABLED).toBe('0000:00:02.0 (root port) has no ACS capability');
  });

  it('leaves devices on a fully enabled path alone', () => {
    const verdict = buildPreservationSet(strictHost, [singleton.bdf], { strictAcs: true }).devices[0];
    expect(verdict.preservable).toBe(true);
    expect(verdict.acsBlocker).toBeUndefined();
  });
});

describe('requests and summary', () => {
  it('defaults to every vfio-pci device, in topology order', () => {
    const set = buildPreservationSet(host, undefined);
    expect(set.devices.map((d) => d.bdf)).toEqual([singleton.bdf, vf.bdf, pfNoVfs.bdf, noGroup.bdf, gpu.bdf, audio.bdf]);
    expect(set.profile).toBe('singleton-group');
    expect(set.strictAcs).toBe(false);
    expect(set.summary).toEqual({
      requested: 6,
      preservable: 1,
      rejected: 5,
      eligible: false,
      byReason: { IS_VIRTFN: 1, IS_PHYSFN: 1, NO_IOMMU_GROUP: 1, GROUP_NOT_SINGLETON: 2 },
    });
  });

  it('keeps request order, duplicates included, and host-owned devices when named', () => {
    const order = [hostNvme.bdf, '0000:ff:00.0', singleton.bdf, hostNvme.bdf];
    const set = buildPreservationSet(host, order);
    expect(set.devices.map((d) => d.bdf)).toEqual(order);
    expect(set.devices.map((d) => d.preservable)).toEqual([true, false, true, true]);
  });

  it('is eligible only when every requested device can be preserved', () => {
    expect(buildPreservationSet(host, [singleton.bdf, hostNvme.bdf]).summary).toMatchObject({ eligible: true, rejected: 0 });
    expect(buildPreservationSet(host, [singleton.bdf, gpu.bdf]).summary).toMatchObject({ eligible: false, rejected: 1 });
  });

  it('throws UnknownProfileError naming the profile and the known ones', () => {
    expect(() => buildPreservationSet(host, undefined, { profile: 'v9-magic' })).toThrow(UnknownProfileError);
    expect(() => buildPreservationSet(host, undefined, { profile: 'v9-magic' })).toThrow(
      /"v9-magic".*singleton-group, acs-carried/,
    );
  });
});

describe('acs-carried profile (later revisions: ACS inherited)', () => {
  const quirkNic = pciDevice('0000:07:00.0', { parentChain: [rp.bdf], vendor: 0x8086, device: 0x10fb, iommuGroup: 8 });
  const ampereRp = rootPort('0000:00:03.0', { vendor: 0x1def, device: 0xe007, iommuGroup: 12 });
  const behindAmpere = pciDevice('0000:20:00.0', { parentChain: [ampereRp.bdf], iommuGroup: 13 });
  const carried = hostOf([...host.devices, quirkNic, ampereRp, behindAmpere]);
  const judgeCarried = (bdf: string, strictAcs = false) =>
    buildPreservationSet(carried, [bdf], { profile: 'acs-carried', strictAcs }).devices[0];

  it('drops the singleton, PF and group rules but still refuses VFs', () => {
    expect(judgeCarried(gpu.bdf).preservable).toBe(true);
    expect(judgeCarried(pf.bdf).preservable).toBe(true);
    expect(judgeCarried(noGroup.bdf).preservable).toBe(true);
    expect(judgeCarried(vf.bdf).reasons).toEqual(['IS_VIRTFN']);
  });

  it('refuses devices needing an ACS quirk, on the device or a bridge above it', () => {
    const own = judgeCarried(quirkNic.bdf);
    expect(own.reasons).toEqual(['ACS_PATH_NOT_ENABLED']);
    expect(own.details.ACS_PATH_NOT_ENABLED).toBe(
      '0000:07:00.0 (8086:10fb) needs ACS quirk pci_quirk_mf_endpoint_acs, which is not carried across Live Update',
    );
    expect(own.acsBlocker).toBeUndefined();
    expect(judgeCarried(behindAmpere.bdf).details.ACS_PATH_NOT_ENABLED).toMatch(/^0000:00:03\.0 \(1def:e007\) .*xgene/);
  });

  it('reports a quirk and a broken path as one reason with both details', () => {
    const noAcsAmpere = { ...ampereRp, acs: NO_ACS };
    const both = hostOf([noAcsAmpere, behindAmpere]);
    const verdict = buildPreservationSet(both, [behindAmpere.bdf], { profile: 'acs-carried', strictAcs: true }).devices[0];
    expect(verdict.reasons).toEqual(['ACS_PATH_NOT_ENABLED']);
    expect(verdict.details.ACS_PATH_NOT_ENABLED).toMatch(/xgene.*; 0000:00:03\.0 \(root port\) has no ACS capability$/);
    expect(verdict.acsBlocker).toBe(ampereRp.bdf);
  });
});

describe('pci-liveupdate-v9 profile (restrictions: VFs and enable-ACS quirks)', () => {
  const pchRp = rootPort('0000:00:1c.0', { vendor: 0x8086, device: 0x8c10, acs: NO_ACS, iommuGroup: 20 });
  const behindPch = pciDevice('0000:30:00.0', { parentChain: [pchRp.bdf], iommuGroup: 21 });
  const mfNic = pciDevice('0000:07:00.0', { parentChain: [rp.bdf], vendor: 0x8086, device: 0x10fb, iommuGroup: 8 });
  const pchIdEndpoint = pciDevice('0000:31:00.0', { parentChain: [rp.bdf], vendor: 0x8086, device: 0x8c10, iommuGroup: 22 });
  const v9 = hostOf([...host.devices, pchRp, behindPch, mfNic, pchIdEndpoint]);
  const judgeV9 = (bdf: string, strictAcs = false) => buildPreservationSet(v9, [bdf], { profile: 'pci-liveupdate-v9', strictAcs }).devices[0];

  it('accepts PFs, shared and missing groups, but refuses VFs', () => {
    expect([pf, pfNoVfs, gpu, noGroup].map((d) => judgeV9(d.bdf).preservable)).toEqual([true, true, true, true]);
    expect(judgeV9(vf.bdf).reasons).toEqual(['IS_VIRTFN']);
  });

  it('refuses a device below a root port that needs an enable-ACS quirk, naming the port', () => {
    const verdict = judgeV9(behindPch.bdf);
    expect(verdict.reasons).toEqual(['ACS_PATH_NOT_ENABLED']);
    expect(verdict.details.ACS_PATH_NOT_ENABLED).toBe(
      '0000:00:1c.0 (8086:8c10) needs pci_quirk_enable_intel_pch_acs to enable ACS, and v9 refuses devices relying on ACS quirks',
    );
    expect(verdict.acsBlocker).toBeUndefined();
  });

  it('accepts what only an ACS-enabled quirk isolates, and a PCH id that is not a root port', () => {
    expect(judgeV9(mfNic.bdf).preservable).toBe(true);
    expect(buildPreservationSet(v9, [mfNic.bdf], { profile: 'acs-carried' }).devices[0].reasons).toEqual(['ACS_PATH_NOT_ENABLED']);
    expect(judgeV9(pchIdEndpoint.bdf).preservable).toBe(true);
  });

  it('asks for the full ACS path only in strict mode', () => {
    expect(judgeV9(singleton.bdf, true).preservable).toBe(true);
    expect(judgeV9(gpu.bdf, true)).toMatchObject({ reasons: ['ACS_PATH_NOT_ENABLED'], acsBlocker: gpu.bdf });
  });
});
