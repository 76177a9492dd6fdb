import type { Bdf, PciDevice, PcieType } from '@luo-fleet/topology';

/** ACS capability/control bits (include/uapi/linux/pci_regs.h, PCI_ACS_*). */
export const ACS_FLAGS = {
  SV: 0x01,
  TB: 0x02,
  RR: 0x04,
  CR: 0x08,
  UF: 0x10,
  EC: 0x20,
  DT: 0x40,
} as const;

/** REQ_ACS_FLAGS of drivers/iommu/iommu.c: what an immutable IOMMU group needs on the whole path. */
export const REQUIRED_ACS_FLAGS = ACS_FLAGS.SV | ACS_FLAGS.RR | ACS_FLAGS.CR | ACS_FLAGS.UF;

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [ACS_FLAGS.SV, 'Source Validation'],
  [ACS_FLAGS.TB, 'Translation Blocking'],
  [ACS_FLAGS.RR, 'P2P Request Redirect'],
  [ACS_FLAGS.CR, 'P2P Completion Redirect'],
  [ACS_FLAGS.UF, 'Upstream Forwarding'],
  [ACS_FLAGS.EC, 'P2P Egress Control'],
  [ACS_FLAGS.DT, 'Direct Translated P2P'],
];

const TYPE_NAMES: Record<PcieType, string> = {
  endpoint: 'endpoint',
  legacy_endpoint: 'legacy endpoint',
  root_port: 'root port',
  upstream_port: 'upstream port',
  downstream_port: 'downstream port',
  pcie_to_pci_bridge: 'PCIe-to-PCI bridge',
  pci_to_pcie_bridge: 'PCI-to-PCIe bridge',
  rc_integrated_endpoint: 'RC integrated endpoint',
  rc_event_collector: 'RC event collector',
  conventional: 'conventional PCI device',
  unknown: 'device of unknown PCIe type',
};

/** Names of the set bits of an ACS flag word, e.g. "P2P Request Redirect, Upstream Forwarding". */
export function describeAcsFlags(flags: number): string {
  const names: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) names.push(name);
  return names.join(', ');
}

function describeDevice(device: PciDevice): string {
  const type = TYPE_NAMES[device.pcieType] ?? device.pcieType;
  return `${device.bdf} (${device.multifunction ? 'multifunction ' : ''}${type})`;
}

/**
 * Why one device fails `pci_acs_enabled(dev, flags)`, or null when it passes.
 * Mirrors drivers/pci/pci.c; the device-specific quirks (`pci_dev_specific_acs_enabled`) are not
 * modelled, so a device the kernel would pass only through a quirk is judged by config space alone.
 */
export function acsFailure(device: PciDevice, flags: number = REQUIRED_ACS_FLAGS): string | null {
  switch (device.pcieType) {
    // The shared bus of conventional PCI/PCI-X lets any device on it receive or snoop DMA.
    case 'conventional':
      return `${describeDevice(device)} is not PCI Express, so it cannot isolate peer-to-peer traffic`;
    // The kernel handles a PCI/X-to-PCIe bridge like its conventional primary side; PCIe 6.12.1 says
    // ACS is never applicable to PCIe-to-PCI bridges and RC event collectors.
    case 'pci_to_pcie_bridge':
    case 'pcie_to_pci_bridge':
    case 'rc_event_collector':
      return `${describeDevice(device)} never provides ACS isolation`;
    // Downstream and root ports must implement ACS to show their peer-to-peer capabilities.
    case 'root_port':
    case 'downstream_port':
      return acsFlagsFailure(device, flags);
    // Other PCIe types only need ACS when they are one function of a multifunction device.
    case 'endpoint':
    case 'upstream_port':
    case 'legacy_endpoint':
    case 'rc_integrated_endpoint':
      return device.multifunction ? acsFlagsFailure(device, flags) : null;
    // Config space too short to read the PCIe capability: we do not guess.
    case 'unknown':
      return `${describeDevice(device)}: config space was truncated, PCIe type unknown`;
  }
}

/** `pci_acs_flags_enabled()`: unlisted capabilities are hard-wired on, except Egress Control. */
function acsFlagsFailure(device: PciDevice, wanted: number): string | null {
  const acs = device.acs;
  if (acs.state === 'absent') return `${describeDevice(device)} has no ACS capability`;
  if (acs.state === 'unknown') {
    return `${describeDevice(device)}: config space was truncated, ACS capability unknown`;
  }
  const flags = wanted & (acs.capability | ACS_FLAGS.EC);
  const missing = flags & ~acs.control;
  if (missing === 0) return null;
  return `${describeDevice(device)} lacks ACS ${describeAcsFlags(missing)}`;
}

export type AcsPathVerdict =
  | { enabled: true }
  | {
      enabled: false;
      /** The first device on the path (the device itself, then its bridges upward) that fails. */
      blocker: Bdf;
      detail: string;
    };

/** Finds a device of the same host by BDF. */
export interface DeviceLookup {
  device(bdf: Bdf): PciDevice | undefined;
}

const PATH_ENABLED: AcsPathVerdict = Object.freeze({ enabled: true });

/**
 * `pci_acs_path_enabled(dev, NULL, flags)`: the device, then each bridge in `parentChain` up to the
 * one on the root bus, must pass `pci_acs_enabled()`. A bridge missing from the topology fails,
 * since its ACS state cannot be known.
 */
export function acsPathVerdict(
  device: PciDevice,
  host: DeviceLookup,
  flags: number = REQUIRED_ACS_FLAGS,
): AcsPathVerdict {
  let failure = acsFailure(device, flags);
  if (failure !== null) return { enabled: false, blocker: device.bdf, detail: failure };
  const chain = device.parentChain;
  for (let i = 0; i < chain.length; i++) {
    const bridge = host.device(chain[i]);
    if (bridge === undefined) {
      return { enabled: false, blocker: chain[i], detail: `bridge ${chain[i]} above ${device.bdf} is not in the topology` };
    }
    failure = acsFailure(bridge, flags);
    if (failure !== null) return { enabled: false, blocker: bridge.bdf, detail: failure };
  }
  return PATH_ENABLED;
}
