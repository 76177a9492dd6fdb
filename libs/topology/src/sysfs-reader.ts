import { closeSync, existsSync, openSync, readdirSync, readlinkSync, readSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { compareBdf, isBdf, parseBdfParts } from './bdf';
import { parseConfigSpace } from './config-space';
import type { Bdf, HostTopology, PciDevice } from './model';
import { fsProblem, SysfsError } from './sysfs-error';

const BUS_DEVICES = 'bus/pci/devices';
const IOMMU_GROUPS = 'kernel/iommu_groups';
const DRIVERS = 'bus/pci/drivers';
// A host bridge directory under devices/, e.g. pci0000:00 or pci10000:00 (VMD).
const HOST_BRIDGE_DIR = /^pci[0-9a-f]{4,}:[0-9a-f]{2}$/;
const VIRTFN_LINK = /^virtfn(\d+)$/;

/** The parts of one device's sysfs directory read before cross-checks, plus where they came from. */
interface DeviceRead {
  device: PciDevice;
  /** Path of the device directory relative to the tree root (devices/pci.../...). */
  dir: string;
  /** `bus/pci/devices/<bdf>`: how errors name the device. */
  file: string;
}

/**
 * Reads a sysfs tree (real /sys, or one written by writeSysfsTree) into a HostTopology.
 * Sync fs calls on purpose: sysfs reads are tiny and never block, so a promise per file would
 * only add its own overhead.
 */
export async function readSysfsTopology(root: string): Promise<HostTopology> {
  return readSysfsTopologySync(root);
}

export function readSysfsTopologySync(root: string): HostTopology {
  const rootAbs = resolve(root);
  const tree = new SysfsTree(rootAbs);
  tree.requireRoot();

  const reads: DeviceRead[] = [];
  for (const entry of tree.list(BUS_DEVICES)) reads.push(readDevice(tree, entry));
  const byBdf = new Map(reads.map((r) => [r.device.bdf, r]));

  for (const { device, file } of reads) {
    for (const parent of device.parentChain) {
      if (!byBdf.has(parent)) throw new SysfsError(file, `parent bridge ${parent} is not in ${BUS_DEVICES}`);
    }
    if (device.physfn && !byBdf.has(device.physfn)) {
      throw new SysfsError(`${file}/physfn`, `links to ${device.physfn}, which is not in ${BUS_DEVICES}`);
    }
    device.virtfns.forEach((vf, i) => {
      if (!byBdf.has(vf)) throw new SysfsError(`${file}/virtfn${i}`, `links to ${vf}, which is not in ${BUS_DEVICES}`);
    });
  }

  const iommuGroups = readIommuGroups(tree, byBdf);
  for (const { device, file } of reads) {
    if (device.iommuGroup === null) continue;
    const members = iommuGroups[String(device.iommuGroup)];
    if (!members) {
      throw new SysfsError(`${file}/iommu_group`, `links to group ${device.iommuGroup}, which ${IOMMU_GROUPS} does not have`);
    }
    if (!members.includes(device.bdf)) {
      throw new SysfsError(`${file}/iommu_group`, `links to group ${device.iommuGroup}, but ${IOMMU_GROUPS}/${device.iommuGroup}/devices does not list ${device.bdf}`);
    }
  }

  const devices = reads.map((r) => r.device).sort((a, b) => compareBdf(a.bdf, b.bdf));
  return { devices, iommuGroups };
}

function readDevice(tree: SysfsTree, entry: Dirent): DeviceRead {
  const name = entry.name;
  const file = `${BUS_DEVICES}/${name}`;
  if (!isBdf(name)) throw new SysfsError(file, 'name is not a PCI address (dddd:bb:dd.f, lower case)');
  if (!entry.isSymbolicLink()) throw new SysfsError(file, 'expected a symbolic link into devices/');
  // No existence check here: listing the directory below reports a dangling link.
  const dir = tree.linkTarget(file, file, false);
  if (basename(dir) !== name) throw new SysfsError(file, `links to ${dir}, a directory with another name`);
  const components = dir.split('/');
  const hostBridgeAt = components.findLastIndex((c) => HOST_BRIDGE_DIR.test(c));
  if (components[0] !== 'devices' || hostBridgeAt < 0) {
    throw new SysfsError(file, `links to ${dir}, which is not under devices/pci<domain>:<bus>`);
  }
  const above = components.slice(hostBridgeAt + 1, -1);
  const notBdf = above.find((c) => !isBdf(c));
  if (notBdf !== undefined) throw new SysfsError(file, `path ${dir} has ${JSON.stringify(notBdf)} where a bridge address belongs`);

  const entries = tree.listNames(dir, file);
  const has = (n: string) => entries.has(n);
  // Read through the real directory (relative links resolve from there), name files by the bus path.
  const inDir = (n: string) => `${dir}/${n}`;
  const named = (n: string) => `${file}/${n}`;
  const config = tree.readBytes(inDir('config'), named('config'));
  if (config.length < 64) throw new SysfsError(named('config'), `${config.length} bytes, shorter than the 64-byte header`);
  const facts = parseConfigSpace(config);

  const virtfns = [...entries.keys()]
    .map((n) => VIRTFN_LINK.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => tree.linkedBdf(inDir(m[0]), named(m[0])));

  const physfn = has('physfn') ? tree.linkedBdf(inDir('physfn'), named('physfn')) : null;
  const totalVfs = has('sriov_totalvfs') ? tree.readCount(inDir('sriov_totalvfs'), named('sriov_totalvfs')) : null;

  const device: PciDevice = {
    bdf: name,
    vendor: tree.readHex(inDir('vendor'), 4, named('vendor')),
    device: tree.readHex(inDir('device'), 4, named('device')),
    class: tree.readHex(inDir('class'), 6, named('class')),
    driver: has('driver') ? tree.linkedDriver(inDir('driver'), named('driver')) : null,
    parentChain: above.reverse(),
    isVirtfn: physfn !== null,
    physfn,
    isPhysfn: totalVfs !== null,
    sriovTotalVfs: totalVfs ?? 0,
    virtfns,
    iommuGroup: has('iommu_group') ? tree.linkedGroup(inDir('iommu_group'), named('iommu_group')) : null,
    pcieType: facts.pcieType,
    // As the kernel's pci_scan_slot(): a function other than 0 found by a slot scan is part of a
    // multifunction device even when its own header type lacks the bit (VFs are not slot-scanned).
    multifunction: facts.multifunction || (physfn === null && parseBdfParts(name).fn > 0),
    acs: facts.acs,
  };
  return { device, dir, file };
}

function readIommuGroups(tree: SysfsTree, byBdf: Map<Bdf, DeviceRead>): Record<string, Bdf[]> {
  const groups: Record<string, Bdf[]> = {};
  if (!tree.exists(IOMMU_GROUPS)) return groups; // IOMMU off: the kernel has no groups at all
  const numbers = tree.list(IOMMU_GROUPS).map((e) => e.name);
  for (const n of numbers) {
    if (!/^(0|[1-9]\d*)$/.test(n)) throw new SysfsError(`${IOMMU_GROUPS}/${n}`, 'group name is not a number');
  }
  for (const n of numbers.sort((a, b) => Number(a) - Number(b))) {
    const membersDir = `${IOMMU_GROUPS}/${n}/devices`;
    const members: Bdf[] = [];
    for (const entry of tree.list(membersDir)) {
      const file = `${membersDir}/${entry.name}`;
      if (!isBdf(entry.name)) throw new SysfsError(file, 'name is not a PCI address (dddd:bb:dd.f, lower case)');
      const known = byBdf.get(entry.name);
      if (!known) throw new SysfsError(file, `${entry.name} is not in ${BUS_DEVICES}`);
      if (!entry.isSymbolicLink()) throw new SysfsError(file, 'expected a symbolic link to the device');
      const target = tree.linkTarget(file, file, false);
      if (target !== known.dir) throw new SysfsError(file, `links to ${target}, but ${BUS_DEVICES}/${entry.name} is ${known.dir}`);
      if (known.device.iommuGroup !== Number(n)) {
        const has = known.device.iommuGroup === null ? 'has no iommu_group link' : `links to group ${known.device.iommuGroup}`;
        throw new SysfsError(`${known.file}/iommu_group`, `group ${n} lists ${entry.name}, but the device ${has}`);
      }
      members.push(entry.name);
    }
    groups[n] = members.sort(compareBdf);
  }
  return groups;
}

/** Every fs access of the reader, each turning failures into a SysfsError that names the file. */
class SysfsTree {
  constructor(private readonly root: string) {}

  private abs(rel: string): string {
    return join(this.root, rel);
  }

  requireRoot(): void {
    let isDir: boolean;
    try {
      isDir = statSync(this.root).isDirectory();
    } catch (err) {
      throw new SysfsError('', `sysfs root ${this.root}: ${fsProblem(err)}`);
    }
    if (!isDir) throw new SysfsError('', `sysfs root ${this.root} is not a directory`);
  }

  exists(rel: string): boolean {
    return existsSync(this.abs(rel));
  }

  list(rel: string): Dirent[] {
    try {
      return readdirSync(this.abs(rel), { withFileTypes: true });
    } catch (err) {
      throw new SysfsError(rel, fsProblem(err));
    }
  }

  /** Entry names of a device directory; `file` is how errors name it. */
  listNames(rel: string, file: string): Map<string, Dirent> {
    try {
      return new Map(readdirSync(this.abs(rel), { withFileTypes: true }).map((e) => [e.name, e]));
    } catch (err) {
      const problem = fsProblem(err);
      throw new SysfsError(file, problem === 'missing' ? `dangling link (to ${rel})` : `${rel}: ${problem}`);
    }
  }

  /**
   * Where a relative link points, as a path relative to the root; it must stay inside the tree and
   * exist. `mustExist` false skips the stat where a later check catches a dangling link anyway (the
   * target must be a device or group that was read), saving a syscall per link.
   */
  linkTarget(rel: string, label = rel, mustExist = true): string {
    let target: string;
    try {
      target = readlinkSync(this.abs(rel));
    } catch (err) {
      throw new SysfsError(label, fsProblem(err));
    }
    // Relative to the directory the link really sits in, as the kernel resolves it.
    const abs = resolve(dirname(this.abs(rel)), target);
    const inside = relative(this.root, abs);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new SysfsError(label, `links to ${target}, outside the sysfs tree`);
    }
    if (mustExist && !existsSync(abs)) throw new SysfsError(label, `dangling link (to ${target})`);
    return inside.split(sep).join('/');
  }

  linkedBdf(rel: string, label = rel): Bdf {
    // Existence is checked by the caller: the BDF must be a device of the tree.
    const name = basename(this.linkTarget(rel, label, false));
    if (!isBdf(name)) throw new SysfsError(label, `links to ${JSON.stringify(name)}, not a PCI device directory`);
    return name;
  }

  linkedGroup(rel: string, label = rel): number {
    // Existence is checked against kernel/iommu_groups once all devices are read.
    const target = this.linkTarget(rel, label, false);
    const m = /^kernel\/iommu_groups\/(0|[1-9]\d*)$/.exec(target);
    if (!m) throw new SysfsError(label, `links to ${target}, not to ${IOMMU_GROUPS}/<number>`);
    return Number(m[1]);
  }

  private drivers: Set<string> | undefined;

  /** The bound driver's name; its directory must exist under bus/pci/drivers (listed once per read). */
  linkedDriver(rel: string, label: string): string {
    const target = this.linkTarget(rel, label, false);
    const m = /^bus\/pci\/drivers\/([^/]+)$/.exec(target);
    if (!m) throw new SysfsError(label, `links to ${target}, not to bus/pci/drivers/<name>`);
    this.drivers ??= new Set(this.exists(DRIVERS) ? this.list(DRIVERS).map((e) => e.name) : []);
    if (!this.drivers.has(m[1])) throw new SysfsError(label, `dangling link (to ${target})`);
    return m[1];
  }

  // One buffer for every read: sysfs attributes are tiny and config space is at most 4 KiB.
  private readonly buffer = Buffer.allocUnsafe(8192);

  /** Reads a file into the shared buffer (open, read, close: no stat), returning its length. */
  private readInto(rel: string, label: string): number {
    let fd: number;
    try {
      fd = openSync(this.abs(rel), 'r');
    } catch (err) {
      throw new SysfsError(label, fsProblem(err));
    }
    try {
      // A short read means end of file (sysfs hands out an attribute in one read), saving a call.
      let n = 0;
      for (;;) {
        const want = this.buffer.length - n;
        const got = readSync(fd, this.buffer, n, want, null);
        n += got;
        if (got === 0 || got < want) return n;
      }
    } catch (err) {
      throw new SysfsError(label, fsProblem(err));
    } finally {
      closeSync(fd);
    }
  }

  readBytes(rel: string, label = rel): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.readInto(rel, label)));
  }

  private readText(rel: string, label: string): string {
    return this.buffer.toString('latin1', 0, this.readInto(rel, label)).trim();
  }

  /** A sysfs hex attribute such as `0x10de\n`. */
  readHex(rel: string, maxDigits: number, label = rel): number {
    const text = this.readText(rel, label);
    if (!new RegExp(`^0x[0-9a-fA-F]{1,${maxDigits}}$`).test(text)) {
      throw new SysfsError(label, `expected a hex number like 0x${'0'.repeat(maxDigits)}, found ${JSON.stringify(text.slice(0, 40))}`);
    }
    return parseInt(text.slice(2), 16);
  }

  readCount(rel: string, label = rel): number {
    const text = this.readText(rel, label);
    if (!/^\d{1,5}$/.test(text)) throw new SysfsError(label, `expected a decimal count, found ${JSON.stringify(text.slice(0, 40))}`);
    return Number(text);
  }
}

