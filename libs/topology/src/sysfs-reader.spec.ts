import fc from 'fast-check';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTopology } from './model';
import { SysfsError } from './sysfs-error';
import { readSysfsTopology, readSysfsTopologySync } from './sysfs-reader';

const FIXTURES = resolve(__dirname, '../../../test/fixtures');
const read = (name: string) => readSysfsTopology(join(FIXTURES, name));
const dev = (t: HostTopology, bdf: string) => {
  const d = t.devices.find((x) => x.bdf === bdf);
  if (!d) throw new Error(`${bdf} not read`);
  return d;
};
const scratch = mkdtempSync(join(tmpdir(), 'luo-sysfs-reader-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('readSysfsTopology on the fixture hosts', () => {
  it('singleton-endpoint: identity, driver, group, parent chain, PCIe type and ACS', async () => {
    const t = await read('singleton-endpoint');
    expect(t.devices.map((d) => d.bdf)).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:01:00.0']);
    expect(dev(t, '0000:01:00.0')).toMatchObject({ vendor: 0x144d, device: 0xa80a, class: 0x010802, driver: 'vfio-pci', iommuGroup: 2, parentChain: ['0000:00:01.0'], pcieType: 'endpoint', acs: { state: 'absent' } });
    expect(dev(t, '0000:00:01.0')).toMatchObject({ pcieType: 'root_port', acs: { state: 'present', capability: 0x7f, control: 0x1d }, parentChain: [] });
    expect(t.iommuGroups['2']).toEqual(['0000:01:00.0']);
  });

  it('sriov-pf-vfs: VFs name their PF, the PF lists its VFs', async () => {
    const t = await read('sriov-pf-vfs');
    expect(dev(t, '0000:3b:00.0')).toMatchObject({ isPhysfn: true, sriovTotalVfs: 8, virtfns: ['0000:3b:00.2', '0000:3b:00.3'], isVirtfn: false });
    expect(dev(t, '0000:3b:00.3')).toMatchObject({ isVirtfn: true, physfn: '0000:3b:00.0', isPhysfn: false, driver: 'vfio-pci', parentChain: ['0000:3a:00.0'] });
  });

  it('sriov-pf-no-vfs: a PF with no VF enabled is still a PF', async () => {
    const t = await read('sriov-pf-no-vfs');
    expect(dev(t, '0000:5e:00.0')).toMatchObject({ isPhysfn: true, sriovTotalVfs: 128, virtfns: [] });
  });

  it('no-iommu-group: no kernel/iommu_groups at all', async () => {
    const t = await read('no-iommu-group');
    expect(t.iommuGroups).toEqual({});
    expect(t.devices.every((d) => d.iommuGroup === null)).toBe(true);
  });

  it('gpu-behind-switch and conventional-bridge: parent chains nearest first', async () => {
    const gpu = dev(await read('gpu-behind-switch'), '0000:19:00.0');
    expect(gpu.parentChain).toEqual(['0000:18:00.0', '0000:17:00.0', '0000:16:00.0']);
    const t = await read('conventional-bridge');
    expect(dev(t, '0000:03:00.0')).toMatchObject({ parentChain: ['0000:02:00.0', '0000:01:00.0', '0000:00:1c.0'], pcieType: 'conventional' });
    expect(dev(t, '0000:01:00.0').pcieType).toBe('pcie_to_pci_bridge');
  });

  it('multifunction-no-acs: multifunction bit and shared group', async () => {
    const t = await read('multifunction-no-acs');
    expect(dev(t, '0000:04:00.1')).toMatchObject({ multifunction: true, acs: { state: 'absent' }, iommuGroup: 50 });
    expect(t.iommuGroups['50']).toEqual(['0000:04:00.0', '0000:04:00.1']);
  });

  it('wide-domain: 5-digit domains read and sort after 0000', async () => {
    const t = await read('wide-domain');
    expect(t.devices.map((d) => d.bdf)).toEqual(['0000:00:00.0', '0000:00:0e.0', '10000:00:01.0', '10000:01:00.0']);
    expect(dev(t, '10000:01:00.0').parentChain).toEqual(['10000:00:01.0']);
  });

  it('short-config: 64-byte config leaves PCIe type and ACS unknown', async () => {
    const t = await read('short-config');
    for (const d of t.devices) expect(d).toMatchObject({ pcieType: 'unknown', acs: { state: 'unknown' } });
  });

  it('sample-host: 64 devices, several on vfio-pci', async () => {
    const t = await read('sample-host');
    expect(t.devices).toHaveLength(64);
    expect(t.devices.filter((d) => d.driver === 'vfio-pci').length).toBeGreaterThan(10);
  });
});

function copyFixture(name: string): string {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

function expectSysfsError(root: string, file: string | RegExp, problem: RegExp): void {
  let caught: unknown;
  try {
    readSysfsTopologySync(root);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SysfsError);
  const e = caught as SysfsError;
  if (typeof file === 'string') expect(e.file).toBe(file);
  else expect(e.file).toMatch(file);
  expect(e.problem).toMatch(problem);
}

describe('readSysfsTopology on broken trees', () => {
  const endpoint = 'bus/pci/devices/0000:01:00.0';
  const realDir = 'devices/pci0000:00/0000:00:01.0/0000:01:00.0';

  it('missing root or bus/pci/devices', () => {
    expectSysfsError(join(scratch, 'nope'), '', /missing/);
    const empty = mkdtempSync(join(scratch, 'empty-'));
    expectSysfsError(empty, 'bus/pci/devices', /missing/);
  });

  it('dangling device link', () => {
    const root = copyFixture('singleton-endpoint');
    rmSync(join(root, realDir), { recursive: true });
    expectSysfsError(root, endpoint, /dangling/);
  });

  it('garbled or missing vendor, device, class', () => {
    let root = copyFixture('singleton-endpoint');
    writeFileSync(join(root, realDir, 'vendor'), 'nvidia\n');
    expectSysfsError(root, `${endpoint}/vendor`, /hex number/);
    root = copyFixture('singleton-endpoint');
    unlinkSync(join(root, realDir, 'class'));
    expectSysfsError(root, `${endpoint}/class`, /missing/);
  });

  it('config shorter than 64 bytes', () => {
    const root = copyFixture('singleton-endpoint');
    truncateSync(join(root, realDir, 'config'), 40);
    expectSysfsError(root, `${endpoint}/config`, /40 bytes/);
  });

  it('a device name that is no PCI address', () => {
    const root = copyFixture('singleton-endpoint');
    symlinkSync(`../../../${realDir}`, join(root, 'bus/pci/devices/0000:01:00'));
    expectSysfsError(root, 'bus/pci/devices/0000:01:00', /not a PCI address/);
  });

  it('an iommu_group link that disagrees with the group directory', () => {
    const root = copyFixture('singleton-endpoint');
    unlinkSync(join(root, realDir, 'iommu_group'));
    symlinkSync('../../../../kernel/iommu_groups/1', join(root, realDir, 'iommu_group'));
    expectSysfsError(root, /0000:01:00.0\/iommu_group$/, /group/);
  });

  it('a group listing a device the bus does not have', () => {
    const root = copyFixture('singleton-endpoint');
    mkdirSync(join(root, 'kernel/iommu_groups/9/devices'), { recursive: true });
    symlinkSync('../../../../devices/pci0000:00/0000:00:07.0', join(root, 'kernel/iommu_groups/9/devices/0000:00:07.0'));
    expectSysfsError(root, 'kernel/iommu_groups/9/devices/0000:00:07.0', /not in bus\/pci\/devices/);
  });

  it('a corrupted tree never throws anything but a SysfsError naming a file', () => {
    // A small host with PF/VF links and groups keeps 40 copies cheap.
    const pristine = copyFixture('sriov-pf-vfs');
    const paths: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(pristine, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        paths.push(p);
        if (e.isDirectory()) walk(p);
      }
    };
    walk('');
    const damage = fc.record({ path: fc.constantFrom(...paths), how: fc.constantFrom('delete', 'dangle', 'truncate', 'garble', 'loop'), size: fc.nat(300) });
    fc.assert(
      fc.property(fc.array(damage, { minLength: 1, maxLength: 4 }), (hits) => {
        const root = mkdtempSync(join(scratch, 'corrupt-'));
        cpSync(pristine, root, { recursive: true, verbatimSymlinks: true });
        for (const { path, how, size } of hits) {
          const abs = join(root, path);
          let st;
          try {
            st = lstatSync(abs);
          } catch {
            continue; // gone with an earlier hit
          }
          // The link as it is now: an earlier hit may have made a link of what was a directory.
          const target = st.isSymbolicLink() ? readlinkSync(abs) : undefined;
          rmSync(abs, { recursive: true, force: true });
          if (how === 'dangle') symlinkSync(target === undefined ? 'nowhere' : `${target}-gone`, abs);
          else if (how === 'loop') symlinkSync(path.split('/').pop() as string, abs);
          else if (how === 'truncate') writeFileSync(abs, Buffer.alloc(size % 70, 0xff));
          else if (how === 'garble') writeFileSync(abs, '\u0000garbage\n');
        }
        try {
          readSysfsTopologySync(root);
        } catch (err) {
          expect(err).toBeInstanceOf(SysfsError);
          expect((err as SysfsError).file).not.toBe('');
          expect((err as SysfsError).problem.length).toBeGreaterThan(0);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
      // The example once broke this test's own damage code (a directory turned into a link, then dangled).
      { numRuns: 40, examples: [[[{ path: 'bus', how: 'loop', size: 0 }, { path: 'bus', how: 'dangle', size: 0 }, { path: 'bus', how: 'delete', size: 0 }]]] },
    );
  }, 120_000);
});
