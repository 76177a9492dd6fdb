import type { AcsState, PcieType } from './model';

/** ACS capability/control bits (PCI_ACS_* in include/uapi/linux/pci_regs.h). */
export const ACS_FLAGS = {
  SV: 0x0001, // Source Validation
  TB: 0x0002, // Translation Blocking
  RR: 0x0004, // P2P Request Redirect
  CR: 0x0008, // P2P Completion Redirect
  UF: 0x0010, // Upstream Forwarding
  EC: 0x0020, // P2P Egress Control
  DT: 0x0040, // Direct Translated P2P
} as const;

/** The kernel's REQ_ACS_FLAGS: what pci_acs_path_enabled() must see for an immutable group. */
export const REQ_ACS_FLAGS = ACS_FLAGS.SV | ACS_FLAGS.RR | ACS_FLAGS.CR | ACS_FLAGS.UF;

/** SR-IOV extended capability as found in config space. */
export type SriovCapState = { state: 'present'; totalVfs: number } | { state: 'absent' } | { state: 'unknown' };

export interface ConfigSpaceFacts {
  pcieType: PcieType;
  multifunction: boolean;
  acs: AcsState;
  sriov: SriovCapState;
}

export class ConfigSpaceError extends Error {
  constructor(readonly problem: string) {
    super(`config space: ${problem}`);
    this.name = 'ConfigSpaceError';
  }
}

const PCI_STATUS = 0x06;
const PCI_STATUS_CAP_LIST = 0x10;
const PCI_HEADER_TYPE = 0x0e;
const PCI_CAPABILITY_LIST = 0x34;
const PCI_CB_CAPABILITY_LIST = 0x14;
const PCI_CAP_ID_EXP = 0x10;
const PCI_EXT_CAP_ID_ACS = 0x000d;
const PCI_EXT_CAP_ID_SRIOV = 0x0010;
const PCI_CFG_SPACE_SIZE = 256;
const PCI_CFG_SPACE_EXP_SIZE = 4096;
// Same guards as the kernel (PCI_FIND_CAP_TTL, and one ext cap per 8 bytes): a looping list ends.
const CAP_TTL = 48;
const EXT_CAP_TTL = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

const PCIE_TYPE_CODES: Partial<Record<number, PcieType>> = {
  0x0: 'endpoint',
  0x1: 'legacy_endpoint',
  0x4: 'root_port',
  0x5: 'upstream_port',
  0x6: 'downstream_port',
  0x7: 'pcie_to_pci_bridge',
  0x8: 'pci_to_pcie_bridge',
  0x9: 'rc_integrated_endpoint',
  0xa: 'rc_event_collector',
};

export type ExpressPortType = Exclude<PcieType, 'conventional' | 'unknown'>;

export const PCIE_TYPE_CODE: Record<ExpressPortType, number> = Object.fromEntries(
  Object.entries(PCIE_TYPE_CODES).map(([code, name]) => [name, Number(code)]),
) as Record<ExpressPortType, number>;

type StdCapSearch = { found: number } | { notFound: true } | { beyondFile: true };

function findStandardCap(bytes: Buffer, capId: number): StdCapSearch {
  if ((bytes.readUInt16LE(PCI_STATUS) & PCI_STATUS_CAP_LIST) === 0) return { notFound: true };
  const headerType = bytes[PCI_HEADER_TYPE] & 0x7f;
  let pos = bytes[headerType === 2 ? PCI_CB_CAPABILITY_LIST : PCI_CAPABILITY_LIST];
  for (let ttl = CAP_TTL; ttl > 0; ttl--) {
    if (pos < 0x40) break;
    pos &= ~3;
    if (pos + 2 > bytes.length) return { beyondFile: true };
    const id = bytes[pos];
    if (id === 0xff) break;
    if (id === capId) return { found: pos };
    pos = bytes[pos + 1];
  }
  return { notFound: true };
}

function findExtCaps(bytes: Buffer): Map<number, number> {
  const found = new Map<number, number>();
  let pos = PCI_CFG_SPACE_SIZE;
  for (let ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
    if (pos + 4 > bytes.length) break;
    const header = bytes.readUInt32LE(pos);
    // 0 means an empty list; all-ones is what a missing device reads back.
    if (header === 0 || header === 0xffffffff) break;
    const id = header & 0xffff;
    if (!found.has(id)) found.set(id, pos);
    pos = (header >>> 20) & 0xffc;
    if (pos < PCI_CFG_SPACE_SIZE) break;
  }
  return found;
}

function readPcieType(bytes: Buffer): PcieType {
  const cap = findStandardCap(bytes, PCI_CAP_ID_EXP);
  if ('beyondFile' in cap) return 'unknown';
  if ('notFound' in cap) return 'conventional';
  if (cap.found + 4 > bytes.length) return 'unknown';
  const flags = bytes.readUInt16LE(cap.found + 2);
  return PCIE_TYPE_CODES[(flags >> 4) & 0xf] ?? 'unknown';
}

/** Reads what luo-fleet needs from a device's config space (the sysfs `config` file). */
export function parseConfigSpace(bytes: Buffer): ConfigSpaceFacts {
  if (bytes.length < 64) throw new ConfigSpaceError(`${bytes.length} bytes, need at least the 64-byte header`);
  const multifunction = (bytes[PCI_HEADER_TYPE] & 0x80) !== 0;
  const pcieType = readPcieType(bytes);
  if (bytes.length <= PCI_CFG_SPACE_SIZE) {
    return { pcieType, multifunction, acs: { state: 'unknown' }, sriov: { state: 'unknown' } };
  }
  const ext = findExtCaps(bytes);
  const acsPos = ext.get(PCI_EXT_CAP_ID_ACS);
  const sriovPos = ext.get(PCI_EXT_CAP_ID_SRIOV);
  let acs: AcsState = { state: 'absent' };
  if (acsPos !== undefined) {
    acs =
      acsPos + 8 <= bytes.length
        ? { state: 'present', capability: bytes.readUInt16LE(acsPos + 4), control: bytes.readUInt16LE(acsPos + 6) }
        : { state: 'unknown' };
  }
  let sriov: SriovCapState = { state: 'absent' };
  if (sriovPos !== undefined) {
    // TotalVFs sits at offset 0x0e of the SR-IOV capability.
    sriov = sriovPos + 0x10 <= bytes.length ? { state: 'present', totalVfs: bytes.readUInt16LE(sriovPos + 0x0e) } : { state: 'unknown' };
  }
  return { pcieType, multifunction, acs, sriov };
}

export interface ConfigSpaceFields {
  vendor: number;
  device: number;
  /** 24-bit class code: base class, subclass, programming interface (e.g. 0x010802 for NVMe). */
  classCode: number;
  /** Type 1 header (PCI-to-PCI bridge); defaults to true for class 0x0604xx. */
  bridge?: boolean;
  multifunction?: boolean;
  /** PCIe port type, or null for a conventional PCI device (no PCIe capability). */
  pcieType: ExpressPortType | null;
  acs?: { capability: number; control: number } | null;
  sriov?: { totalVfs: number } | null;
  size: 64 | 256 | 4096;
}

// Where buildConfigSpace puts each capability; any layout works, these resemble real devices.
const PM_CAP_AT = 0x40;
const EXP_CAP_AT = 0x60;
const AER_AT = 0x100;
const ACS_AT = 0x148;
const SRIOV_AT = 0x160;

function extHeader(id: number, version: number, next: number): number {
  return ((next << 20) | (version << 16) | id) >>> 0;
}

/** Builds config space bytes from named fields, so fixtures never carry pasted hex. */
export function buildConfigSpace(fields: ConfigSpaceFields): Buffer {
  const full = Buffer.alloc(PCI_CFG_SPACE_EXP_SIZE);
  full.writeUInt16LE(fields.vendor, 0x00);
  full.writeUInt16LE(fields.device, 0x02);
  full.writeUInt16LE(0x0406, 0x04); // memory space, bus master, INTx disabled
  full.writeUInt16LE(PCI_STATUS_CAP_LIST, PCI_STATUS);
  full[0x08] = 0x01; // revision
  full[0x09] = fields.classCode & 0xff;
  full.writeUInt16LE((fields.classCode >> 8) & 0xffff, 0x0a);
  const bridge = fields.bridge ?? fields.classCode >> 8 === 0x0604;
  full[PCI_HEADER_TYPE] = (bridge ? 1 : 0) | (fields.multifunction ? 0x80 : 0);
  full[PCI_CAPABILITY_LIST] = PM_CAP_AT;

  // Power management first, so even a conventional device has a capability list to walk.
  full[PM_CAP_AT] = 0x01;
  full[PM_CAP_AT + 1] = fields.pcieType ? EXP_CAP_AT : 0;
  full.writeUInt16LE(0x0003, PM_CAP_AT + 2);
  if (fields.pcieType) {
    full[EXP_CAP_AT] = PCI_CAP_ID_EXP;
    full[EXP_CAP_AT + 1] = 0;
    full.writeUInt16LE(0x0002 | (PCIE_TYPE_CODE[fields.pcieType] << 4), EXP_CAP_AT + 2);

    const ext: { at: number; id: number; version: number; write: (at: number) => void }[] = [
      { at: AER_AT, id: 0x0001, version: 2, write: () => undefined },
    ];
    if (fields.acs) {
      const acs = fields.acs;
      ext.push({
        at: ACS_AT,
        id: PCI_EXT_CAP_ID_ACS,
        version: 1,
        write: (at) => {
          full.writeUInt16LE(acs.capability, at + 4);
          full.writeUInt16LE(acs.control, at + 6);
        },
      });
    }
    if (fields.sriov) {
      const sriov = fields.sriov;
      ext.push({
        at: SRIOV_AT,
        id: PCI_EXT_CAP_ID_SRIOV,
        version: 1,
        write: (at) => {
          full.writeUInt16LE(sriov.totalVfs, at + 0x0c); // InitialVFs
          full.writeUInt16LE(sriov.totalVfs, at + 0x0e); // TotalVFs
        },
      });
    }
    ext.forEach((cap, i) => {
      full.writeUInt32LE(extHeader(cap.id, cap.version, ext[i + 1]?.at ?? 0), cap.at);
      cap.write(cap.at);
    });
  }
  return full.subarray(0, fields.size);
}
