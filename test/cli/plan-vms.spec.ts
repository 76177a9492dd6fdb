import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli';

interface VmOut {
  id: string;
  preservable: boolean;
  reasons: string[];
  devices: string[];
  rejectedDevices: Array<{ bdf: string; reasons: string[] }>;
}

function planVms(name: string, ...flags: string[]) {
  const r = runCli(['plan', '--sysfs', fixture(name), '--vms', `${fixture(name)}/vms.json`, '--json', ...flags]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { devices: Array<{ bdf: string; reasons: string[] }>; vms: VmOut[]; summary: { vms: { changes: string[] } } };
}

const vmOf = (vms: VmOut[], id: string) => {
  const v = vms.find((x) => x.id === id);
  if (!v) throw new Error(`no verdict for ${id}`);
  return v;
};

// Every VM reason code of design 4.5, each produced by a shipped fixture's vms.json.
describe('luo-fleet plan --vms', () => {
  it('sample-host: VMs in the file order, each reason code from a fixture', () => {
    const out = planVms('sample-host');
    expect(out.vms.map((v) => v.id)).toEqual(['gpu-train-1', 'gpu-train-2', 'gpu-infer-1', 'nic-vm-1', 'nic-vm-2', 'db-1', 'store-1', 'store-2', 'legacy-1']);
    expect(vmOf(out.vms, 'gpu-train-1')).toMatchObject({ preservable: false, reasons: ['MEMORY_HUGETLB'], devices: ['0000:b4:00.0'] });
    expect(vmOf(out.vms, 'nic-vm-1')).toMatchObject({
      reasons: ['DEVICE_NOT_PRESERVABLE'],
      rejectedDevices: [{ bdf: '0000:3b:00.2', reasons: ['IS_VIRTFN'] }],
    });
    expect(vmOf(out.vms, 'db-1').reasons).toEqual(['IOAS_MUTABLE']);
    expect(vmOf(out.vms, 'legacy-1').reasons).toEqual(['MEMORY_NOT_MEMFD']);
    expect(vmOf(out.vms, 'store-1')).toMatchObject({ preservable: true, reasons: [], devices: ['0000:18:00.0', '0000:19:00.0'] });
    expect(out.summary.vms.changes).toContain('2 VMs use hugetlb memory');
  });

  it('sample-host: idle vfio-pci devices are judged but block no VM; strict ACS reaches the GPU VM', () => {
    const out = planVms('sample-host');
    expect(out.devices.find((d) => d.bdf === '0000:5e:00.0')?.reasons).toEqual(['IS_PHYSFN']);
    expect(out.vms.some((v) => v.devices.includes('0000:5e:00.0'))).toBe(false);
    expect(vmOf(out.vms, 'gpu-infer-1').preservable).toBe(true);
    expect(vmOf(planVms('sample-host', '--strict-acs').vms, 'gpu-infer-1')).toMatchObject({
      reasons: ['DEVICE_NOT_PRESERVABLE'],
      rejectedDevices: [{ bdf: '0000:b6:00.0', reasons: ['ACS_PATH_NOT_ENABLED'] }],
    });
  });

  it('covers VM devices not requested with --devices', () => {
    const out = planVms('sample-host', '--devices', '0000:b7:00.0');
    expect(out.devices[0].bdf).toBe('0000:b7:00.0');
    expect(out.devices.map((d) => d.bdf)).toEqual(expect.arrayContaining(['0000:b4:00.0', '0000:3b:00.3', '0000:1a:00.0']));
  });

  it('gpu-behind-switch: virtio-mem beside a GPU, file-backed memory, a balloon without devices', () => {
    const out = planVms('gpu-behind-switch');
    expect(out.vms.map((v) => [v.id, v.reasons])).toEqual([
      ['train-1', ['IOAS_MUTABLE']],
      ['build-1', ['MEMORY_NOT_MEMFD']],
      ['web-1', []],
    ]);
    expect(vmOf(planVms('gpu-behind-switch', '--strict-acs').vms, 'train-1').reasons).toEqual(['DEVICE_NOT_PRESERVABLE', 'IOAS_MUTABLE']);
  });

  it('sriov-pf-vfs: VMs on VFs', () => {
    expect(planVms('sriov-pf-vfs').vms.map((v) => v.reasons)).toEqual([['DEVICE_NOT_PRESERVABLE'], ['DEVICE_NOT_PRESERVABLE']]);
  });

  it('prints the VMs in the table too', () => {
    const r = runCli(['plan', '--sysfs', fixture('sample-host'), '--vms', `${fixture('sample-host')}/vms.json`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/gpu-train-1\s+rejected\s+1\s+MEMORY_HUGETLB/);
    expect(r.stdout).toContain('9 VMs, 3 can ride the Live Update, 6 cannot.');
  });

  const scratch = mkdtempSync(join(tmpdir(), 'luo-vms-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(scratch, name);
    writeFileSync(path, text);
    return path;
  };
  const good = { id: 'vm-a', devices: ['0000:3b:00.2'], memory: { backing: 'memfd-shmem', sizeMiB: 1024 }, balloon: false, virtioMem: false, migratable: true };

  it.each([
    ['a BDF held by two VMs', JSON.stringify([good, { ...good, id: 'vm-b' }]), /vms\[1\]\.devices\[0\]: 0000:3b:00\.2 is held by two VMs \(also by vm-a/],
    ['an unknown backing', JSON.stringify([{ ...good, memory: { backing: 'tmpfs', sizeMiB: 1 } }]), /vms\[0\]\.memory\.backing: /],
    ['a negative size', JSON.stringify([{ ...good, memory: { backing: 'file', sizeMiB: -4 } }]), /vms\[0\]\.memory\.sizeMiB: /],
    ['a device the host does not have', JSON.stringify([{ ...good, devices: ['0000:42:00.0'] }]), /vms\[0\]\.devices\[0\]: 0000:42:00\.0 is not a PCI device of this host/],
    ['a missing flag', JSON.stringify([{ ...good, balloon: undefined }]), /vms\[0\]\.balloon: /],
    ['bad JSON', '[{"id": ', /--vms .*: not JSON/],
  ])('%s is bad input: exit 2, one line naming it', (_what, text, message) => {
    const r = runCli(['plan', '--sysfs', fixture('sriov-pf-vfs'), '--vms', file(`${_what.replace(/\W+/g, '-')}.json`, text)]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('a VM file that cannot be read is bad input', () => {
    const r = runCli(['plan', '--sysfs', fixture('sriov-pf-vfs'), '--vms', join(scratch, 'missing.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--vms .*missing\.json: cannot read it \(ENOENT\)/);
  });
});
