import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseBdfParts } from './bdf';
import { buildConfigSpace, type ConfigSpaceFields } from './config-space';
import type { Bdf, HostTopology, PciDevice } from './model';

export interface SysfsWriteOptions {
  /**
   * Size of every device's `config` file. Default: what each device's fields need (4096, or 256
   * when its ACS state is `unknown`, or 64 when even its PCIe type is `unknown`), so reading the
   * tree back gives the same topology.
   */
  configSize?: 64 | 256 | 4096;
}

const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}\n`;

/** Where a device's directory lives: devices/pci<domain>:<root bus>/<bridges, root first>/<bdf>. */
export function sysfsDevicePath(device: Pick<PciDevice, 'bdf' | 'parentChain'>): string {
  const top = device.parentChain.length > 0 ? device.parentChain[device.parentChain.length - 1] : device.bdf;
  const { domain, bus } = parseBdfParts(top);
  const hostBridge = `pci${domain.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}`;
  return ['devices', hostBridge, ...[...device.parentChain].reverse(), device.bdf].join('/');
}

function configFields(device: PciDevice, size: 64 | 256 | 4096): ConfigSpaceFields {
  const known = device.pcieType !== 'unknown' && device.pcieType !== 'conventional';
  return {
    vendor: device.vendor,
    device: device.device,
    classCode: device.class,
    multifunction: device.multifunction,
    // A device of unknown type was read from a short config: any PCIe type reads back as unknown.
    pcieType: known ? (device.pcieType as ConfigSpaceFields['pcieType']) : device.pcieType === 'unknown' ? 'endpoint' : null,
    acs: device.acs.state === 'present' ? { capability: device.acs.capability, control: device.acs.control } : null,
    sriov: device.isPhysfn ? { totalVfs: device.sriovTotalVfs } : null,
    size,
  };
}

function naturalConfigSize(device: PciDevice): 64 | 256 | 4096 {
  if (device.pcieType === 'unknown') return 64;
  if (device.acs.state === 'unknown') return 256;
  return 4096;
}

/**
 * Writes a sysfs tree for a topology the way the kernel lays it out: relative links, device
 * directories nested under their bridges, groups under kernel/iommu_groups. Used for fixtures and
 * for tests of anything that reads sysfs. `dir` may exist; existing entries are not removed.
 */
export function writeSysfsTree(dir: string, topology: HostTopology, opts: SysfsWriteOptions = {}): void {
  const paths = new Map<Bdf, string>(topology.devices.map((d) => [d.bdf, sysfsDevicePath(d)]));
  const link = (from: string, to: string) => {
    const abs = join(dir, from);
    mkdirSync(dirname(abs), { recursive: true });
    symlinkSync(relative(dirname(abs), join(dir, to)), abs);
  };
  const pathOf = (bdf: Bdf) => {
    const p = paths.get(bdf);
    if (!p) throw new Error(`topology refers to ${bdf}, which is not among its devices`);
    return p;
  };

  for (const device of topology.devices) {
    const devDir = pathOf(device.bdf);
    const abs = join(dir, devDir);
    mkdirSync(abs, { recursive: true });
    writeFileSync(join(abs, 'vendor'), hex(device.vendor, 4));
    writeFileSync(join(abs, 'device'), hex(device.device, 4));
    writeFileSync(join(abs, 'class'), hex(device.class, 6));
    writeFileSync(join(abs, 'config'), buildConfigSpace(configFields(device, opts.configSize ?? naturalConfigSize(device))));
    link(`bus/pci/devices/${device.bdf}`, devDir);
    if (device.driver !== null) {
      link(`${devDir}/driver`, `bus/pci/drivers/${device.driver}`);
      link(`bus/pci/drivers/${device.driver}/${device.bdf}`, devDir);
    }
    if (device.iommuGroup !== null) link(`${devDir}/iommu_group`, `kernel/iommu_groups/${device.iommuGroup}`);
    if (device.physfn !== null) link(`${devDir}/physfn`, pathOf(device.physfn));
    device.virtfns.forEach((vf, i) => link(`${devDir}/virtfn${i}`, pathOf(vf)));
    if (device.isPhysfn) {
      writeFileSync(join(abs, 'sriov_totalvfs'), `${device.sriovTotalVfs}\n`);
      writeFileSync(join(abs, 'sriov_numvfs'), `${device.virtfns.length}\n`);
    }
  }
  for (const [group, members] of Object.entries(topology.iommuGroups)) {
    mkdirSync(join(dir, 'kernel/iommu_groups', group, 'devices'), { recursive: true });
    for (const bdf of members) link(`kernel/iommu_groups/${group}/devices/${bdf}`, pathOf(bdf));
  }
}
