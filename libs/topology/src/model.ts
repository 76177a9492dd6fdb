/**
 * A host's PCI/IOMMU topology as luo-fleet sees it: what sysfs and config space say, nothing derived.
 * Verdicts are computed elsewhere (libs/preservation) so a topology can be shipped and re-judged
 * under any rule profile.
 */

/** Canonical BDF: `dddd:bb:dd.f`, lower case; the domain has at least 4 hex digits (more on some hosts). */
export type Bdf = string;

/**
 * PCIe device/port type from the PCI Express Capabilities register (PCIe cap 0x10, bits 7:4),
 * named as the kernel's PCI_EXP_TYPE_*; `conventional` when there is no PCIe capability at all;
 * `unknown` when config space was too short to find out (e.g. a 64-byte unprivileged read).
 */
export type PcieType =
  | 'endpoint' // PCI_EXP_TYPE_ENDPOINT 0x0
  | 'legacy_endpoint' // PCI_EXP_TYPE_LEG_END 0x1
  | 'root_port' // PCI_EXP_TYPE_ROOT_PORT 0x4
  | 'upstream_port' // PCI_EXP_TYPE_UPSTREAM 0x5
  | 'downstream_port' // PCI_EXP_TYPE_DOWNSTREAM 0x6
  | 'pcie_to_pci_bridge' // PCI_EXP_TYPE_PCI_BRIDGE 0x7
  | 'pci_to_pcie_bridge' // PCI_EXP_TYPE_PCIE_BRIDGE 0x8
  | 'rc_integrated_endpoint' // PCI_EXP_TYPE_RC_END 0x9
  | 'rc_event_collector' // PCI_EXP_TYPE_RC_EC 0xa
  | 'conventional'
  | 'unknown';

/** ACS extended capability (0x000D) as found in config space. */
export type AcsState =
  | { state: 'present'; capability: number; control: number }
  | { state: 'absent' }
  /** Config space had no extended region (64 or 256 bytes): nothing can be said, so nothing is guessed. */
  | { state: 'unknown' };

export interface PciDevice {
  bdf: Bdf;
  vendor: number;
  device: number;
  class: number;
  /** Name of the bound driver (`vfio-pci`, `nvme`, ...), null when unbound. */
  driver: string | null;
  /** Bridges above this device, nearest first, ending with the one on the root bus. Empty on a root bus. */
  parentChain: Bdf[];
  isVirtfn: boolean;
  /** The PF of a VF (sysfs `physfn`), else null. */
  physfn: Bdf | null;
  /** True for any device with the SR-IOV capability (sysfs `sriov_totalvfs`), VFs enabled or not. */
  isPhysfn: boolean;
  sriovTotalVfs: number;
  /** VFs of a PF (sysfs `virtfn<N>` links), in N order. */
  virtfns: Bdf[];
  /** IOMMU group number, null when the device has none. */
  iommuGroup: number | null;
  pcieType: PcieType;
  /** As the kernel's `pdev->multifunction`: header type bit 7, or any function but 0 of a slot. */
  multifunction: boolean;
  acs: AcsState;
}

export interface HostTopology {
  /** Devices sorted by BDF. */
  devices: PciDevice[];
  /** Group number (as a decimal string key) to its members sorted by BDF, from `kernel/iommu_groups`. */
  iommuGroups: Record<string, Bdf[]>;
}
