import type { Vm } from '@luo-fleet/topology';
import { describe, expect, it } from 'vitest';
import { buildPreservationSet } from './plan';
import { VM_REASONS } from './reason';
import { hostOf, pciDevice, rootPort } from './topology.fixture';
import { VM_RULES } from './vm-rules';

const rp = rootPort('0000:00:01.0', { iommuGroup: 1 });
const gpu = pciDevice('0000:01:00.0', { parentChain: [rp.bdf], iommuGroup: 2 });
const vf = pciDevice('0000:02:00.2', { parentChain: [rp.bdf], isVirtfn: true, physfn: '0000:02:00.0', iommuGroup: 3 });
const idle = pciDevice('0000:03:00.0', { parentChain: [rp.bdf], iommuGroup: 4, isPhysfn: true, sriovTotalVfs: 8 });
const hostNvme = pciDevice('0000:04:00.0', { parentChain: [rp.bdf], iommuGroup: 5, driver: 'nvme' });
const host = hostOf([rp, gpu, vf, idle, hostNvme]);

const vm = (id: string, devices: string[], facts: Partial<Vm> = {}): Vm => ({
  id,
  devices,
  memory: { backing: 'memfd-shmem', sizeMiB: 8192 },
  balloon: false,
  virtioMem: false,
  migratable: true,
  ...facts,
});

describe('VM verdicts', () => {
  it('keeps the table in design 4.5 order, each rule explained', () => {
    expect(VM_RULES.map((r) => r.reason)).toEqual([...VM_REASONS]);
    for (const rule of VM_RULES) expect(rule.why.length).toBeGreaterThan(20);
  });

  it('a VM with preservable devices, shmem memfd memory and no resizer rides the update', () => {
    const set = buildPreservationSet(host, undefined, { vms: [vm('vm-a', [gpu.bdf])] });
    expect(set.vms).toEqual([{ id: 'vm-a', preservable: true, reasons: [], devices: [gpu.bdf], rejectedDevices: [], details: {} }]);
    expect(set.summary.vms).toEqual({ total: 1, preservable: 1, rejected: 0, byReason: {}, changes: [] });
  });

  it('reports every reason that applies, in order, with the devices that caused the first', () => {
    const all = vm('vm-b', [vf.bdf, gpu.bdf], { memory: { backing: 'memfd-hugetlb', sizeMiB: 1024 }, balloon: true });
    const [verdict] = buildPreservationSet(host, undefined, { vms: [all] }).vms ?? [];
    expect(verdict.reasons).toEqual(['DEVICE_NOT_PRESERVABLE', 'MEMORY_HUGETLB', 'IOAS_MUTABLE']);
    expect(verdict.rejectedDevices).toEqual([{ bdf: vf.bdf, reasons: ['IS_VIRTFN'] }]);
    expect(verdict.details).toEqual({
      DEVICE_NOT_PRESERVABLE: '0000:02:00.2 IS_VIRTFN',
      MEMORY_HUGETLB: '1024 MiB of guest memory in an MFD_HUGETLB memfd',
      IOAS_MUTABLE: 'a balloon beside 2 assigned devices',
    });
    const anon = buildPreservationSet(host, undefined, { vms: [vm('vm-c', [], { memory: { backing: 'anonymous', sizeMiB: 512 }, virtioMem: true })] });
    expect(anon.vms?.[0].reasons).toEqual(['MEMORY_NOT_MEMFD']);
  });

  it('judges VM devices not requested, once each, after the requested ones', () => {
    const set = buildPreservationSet(host, [gpu.bdf], { vms: [vm('vm-a', [hostNvme.bdf, gpu.bdf]), vm('vm-b', ['0000:42:00.0'])] });
    expect(set.devices.map((d) => d.bdf)).toEqual([gpu.bdf, hostNvme.bdf, '0000:42:00.0']);
    expect(set.vms?.map((v) => [v.id, v.reasons])).toEqual([
      ['vm-a', []],
      ['vm-b', ['DEVICE_NOT_PRESERVABLE']],
    ]);
    expect(set.vms?.[1].rejectedDevices).toEqual([{ bdf: '0000:42:00.0', reasons: ['NOT_FOUND'] }]);
  });

  it('judges an idle vfio-pci device but lets it block no VM', () => {
    const set = buildPreservationSet(host, undefined, { vms: [vm('vm-a', [gpu.bdf])] });
    expect(set.devices.find((d) => d.bdf === idle.bdf)?.reasons).toEqual(['IS_PHYSFN']);
    expect(set.vms?.[0].preservable).toBe(true);
  });

  it('counts VMs by verdict and names what would have to change', () => {
    const vms = [
      vm('gpu-1', [gpu.bdf], { memory: { backing: 'memfd-hugetlb', sizeMiB: 1 } }),
      vm('gpu-2', [], { memory: { backing: 'memfd-hugetlb', sizeMiB: 1 } }),
      vm('nic', [vf.bdf]),
      vm('ok', []),
    ];
    expect(buildPreservationSet(host, undefined, { vms }).summary.vms).toEqual({
      total: 4,
      preservable: 1,
      rejected: 3,
      byReason: { MEMORY_HUGETLB: 2, DEVICE_NOT_PRESERVABLE: 1 },
      changes: ['1 VM holds a device the kernel will not preserve', '2 VMs use hugetlb memory'],
    });
  });

  it('adds nothing to a plan made without VMs', () => {
    const set = buildPreservationSet(host, undefined);
    expect('vms' in set).toBe(false);
    expect('vms' in set.summary).toBe(false);
  });
});
