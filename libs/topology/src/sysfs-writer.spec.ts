import fc from 'fast-check';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topologyArb } from '../test/arbitrary-topology';
import { readSysfsTopologySync } from './sysfs-reader';
import { writeSysfsTree } from './sysfs-writer';
import { TopologyBuilder, ACS_ENABLED } from './topology-builder';

const scratch = mkdtempSync(join(tmpdir(), 'luo-sysfs-writer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('writeSysfsTree', () => {
  it('reads back as the topology it was written from', () => {
    fc.assert(
      fc.property(topologyArb, (topology) => {
        const dir = mkdtempSync(join(scratch, 'rt-'));
        try {
          writeSysfsTree(dir, topology);
          expect(readSysfsTopologySync(dir)).toEqual(topology);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('lays links out relative, as the kernel does', () => {
    const b = new TopologyBuilder();
    const rp = b.add('0000:00:01.0', { pcieType: 'root_port', class: 0x060400, acs: ACS_ENABLED, group: 1 });
    b.add('0000:01:00.0', { parent: rp, driver: 'vfio-pci', group: 2 });
    const dir = mkdtempSync(join(scratch, 'layout-'));
    writeSysfsTree(dir, b.build());
    expect(readlinkSync(join(dir, 'bus/pci/devices/0000:01:00.0'))).toBe('../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0');
    expect(readlinkSync(join(dir, 'devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group'))).toBe('../../../../kernel/iommu_groups/2');
    expect(readlinkSync(join(dir, 'devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver'))).toBe('../../../../bus/pci/drivers/vfio-pci');
    expect(readlinkSync(join(dir, 'kernel/iommu_groups/2/devices/0000:01:00.0'))).toBe('../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0');
  });

  it('writes 64-byte configs on request: type and ACS become unknown', () => {
    const b = new TopologyBuilder();
    b.add('0000:00:01.0', { pcieType: 'root_port', class: 0x060400, acs: ACS_ENABLED });
    const dir = mkdtempSync(join(scratch, 'short-'));
    writeSysfsTree(dir, b.build(), { configSize: 64 });
    expect(readSysfsTopologySync(dir).devices[0]).toMatchObject({ pcieType: 'unknown', acs: { state: 'unknown' } });
  });
});
