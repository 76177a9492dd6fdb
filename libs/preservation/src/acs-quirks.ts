import type { PciDevice } from '@luo-fleet/topology';

/**
 * Devices whose ACS isolation the kernel only knows through a device-specific quirk
 * (`pci_dev_acs_enabled[]` in drivers/pci/quirks.c). Later revisions of the Live Update series
 * inherit ACS control words across kexec and refuse devices that need such quirks, because the quirk
 * code would have to know about Live Update too. A representative subset, as data: add ids here.
 */
export interface AcsQuirk {
  vendor: number;
  /** Inclusive device id range; a single id has first === last. */
  first: number;
  last: number;
  /** Which quirk of drivers/pci/quirks.c covers it. */
  quirk: string;
}

const id = (vendor: number, device: number, quirk: string): AcsQuirk => ({ vendor, first: device, last: device, quirk });
const range = (vendor: number, first: number, last: number, quirk: string): AcsQuirk => ({ vendor, first, last, quirk });

export const ACS_QUIRKS: readonly AcsQuirk[] = [
  // AMD/ATI south bridges: isolation is asserted from chipset knowledge, not from an ACS capability.
  ...[0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399].map((d) => id(0x1002, d, 'pci_quirk_amd_sb_acs')),
  id(0x1022, 0x780f, 'pci_quirk_amd_sb_acs'),
  id(0x1022, 0x7809, 'pci_quirk_amd_sb_acs'),
  // Multifunction NICs whose functions are known not to talk peer-to-peer internally.
  ...[0x0903, 0x0923, 0x0a03].map((d) => id(0x1924, d, 'pci_quirk_mf_endpoint_acs')), // Solarflare
  ...[
    0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514,
    0x151c, 0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558, // Intel 82598/82599/X540/X550
    0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527, // Intel 82580
    0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526, // Intel 82576
    0x1521, 0x1522, 0x1523, 0x1524, // Intel I350
  ].map((d) => id(0x8086, d, 'pci_quirk_mf_endpoint_acs')),
  id(0x19a2, 0x0710, 'pci_quirk_mf_endpoint_acs'), // Emulex BE3-R
  id(0x10df, 0x0720, 'pci_quirk_mf_endpoint_acs'), // Emulex Skyhawk-R
  ...[0x16d7, 0x1750, 0x1751, 0x1752].map((d) => id(0x14e4, d, 'pci_quirk_mf_endpoint_acs')), // Broadcom
  // Intel PCH root ports: ACS is implemented in chipset registers, not in a standard capability.
  range(0x8086, 0x3b42, 0x3b51, 'pci_quirk_intel_pch_acs'),
  range(0x8086, 0x1c10, 0x1c1f, 'pci_quirk_intel_pch_acs'),
  range(0x8086, 0x1e10, 0x1e1f, 'pci_quirk_intel_pch_acs'),
  range(0x8086, 0x8c10, 0x8c1f, 'pci_quirk_intel_pch_acs'),
  range(0x8086, 0x8d10, 0x8d1f, 'pci_quirk_intel_pch_acs'),
  range(0x8086, 0xa110, 0xa11f, 'pci_quirk_intel_spt_pch_acs'),
  range(0x8086, 0xa167, 0xa16a, 'pci_quirk_intel_spt_pch_acs'),
  // Root ports that isolate but lack (or misreport) an ACS capability.
  id(0x17cb, 0x0400, 'pci_quirk_qcom_rp_acs'), // Qualcomm QDF2xxx
  id(0x17cb, 0x0401, 'pci_quirk_qcom_rp_acs'),
  id(0x1dbf, 0x0401, 'pci_quirk_qcom_rp_acs'), // HXT SD4800
  range(0x177d, 0xa000, 0xa0ff, 'pci_quirk_cavium_acs'), // Cavium ThunderX
  id(0x10e8, 0xe004, 'pci_quirk_xgene_acs'), // APM X-Gene
  range(0x1def, 0xe005, 0xe00c, 'pci_quirk_xgene_acs'), // Ampere
  id(0x1c36, 0x0031, 'pci_quirk_al_acs'), // Amazon Annapurna Labs
];

/**
 * Root ports whose ACS the kernel can only *enable* through device-specific code: the
 * `pci_dev_acs_ops[]` table of drivers/pci/quirks.c (Intel PCH root ports whose ACS lives in chipset
 * registers or at a non-standard offset), matched by `pci_quirk_intel_pch_acs_match()` and
 * `pci_quirk_intel_spt_pch_acs_match()`, which also require a PCIe root port. This is what
 * `pci_need_dev_specific_enable_acs()` asks, and what the PCI liveupdate series from v6 on refuses.
 */
export const ENABLE_ACS_QUIRKS: readonly AcsQuirk[] = [
  ...[
    [0x3b42, 0x3b51], // Ibexpeak
    [0x1c10, 0x1c1f], // Cougarpoint
    [0x1e10, 0x1e1f], // Pantherpoint
    [0x8c10, 0x8c1f], // Lynxpoint-H
    [0x9c10, 0x9c1b], // Lynxpoint-LP
    [0x9c90, 0x9c9b], // Wildcat
    [0x8d10, 0x8d1e], // Wellsburg (X99)
  ].map(([first, last]) => range(0x8086, first, last, 'pci_quirk_enable_intel_pch_acs')),
  // Patsburg (X79) and Lynx Point (9 series): every other id.
  ...[0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e].map((d) => id(0x8086, d, 'pci_quirk_enable_intel_pch_acs')),
  ...[0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e].map((d) => id(0x8086, d, 'pci_quirk_enable_intel_pch_acs')),
  ...[
    [0xa110, 0xa11f], // Sunrise Point
    [0xa167, 0xa16a],
    [0xa290, 0xa29f], // Union Point
    [0xa2e7, 0xa2ee],
    [0x9d10, 0x9d1b], // 7th and 8th generation mobile
  ].map(([first, last]) => range(0x8086, first, last, 'pci_quirk_enable_intel_spt_pch_acs')),
];

/** Looks a vendor:device id up in a quirk table, caching per id because fleets repeat a few hundred ids. */
function quirkLookup(table: readonly AcsQuirk[]): (device: Pick<PciDevice, 'vendor' | 'device'>) => AcsQuirk | undefined {
  const cache = new Map<number, AcsQuirk>();
  return (device) => {
    const key = device.vendor * 0x10000 + device.device;
    const cached = cache.get(key);
    if (cached !== undefined) return cached === NONE ? undefined : cached;
    const found = table.find((q) => q.vendor === device.vendor && device.device >= q.first && device.device <= q.last);
    cache.set(key, found ?? NONE);
    return found;
  };
}

const NONE: AcsQuirk = { vendor: -1, first: -1, last: -1, quirk: '' };

/** The `pci_dev_acs_enabled[]` quirk covering this device, if any. */
export const acsQuirkFor = quirkLookup(ACS_QUIRKS);

const enableAcsQuirkById = quirkLookup(ENABLE_ACS_QUIRKS);

/**
 * The enable-ACS quirk this device needs, if any. The kernel matches root ports only; a device whose
 * PCIe type could not be read (short config space) is taken to be the root port its id says it is.
 */
export function enableAcsQuirkFor(device: Pick<PciDevice, 'vendor' | 'device' | 'pcieType'>): AcsQuirk | undefined {
  if (device.pcieType !== 'root_port' && device.pcieType !== 'unknown') return undefined;
  return enableAcsQuirkById(device);
}
