import {
  ACS_BITS,
  ACS_CONTROL_DEFAULT,
  type DeviceSpec,
  FULL_ACS,
  type GroupHandle,
  HostBuilder,
  NO_ACS,
} from './fleet-generator-builder';
import type { Prng } from './fleet-generator-prng';
import type { AcsState, Bdf, HostTopology, PciDevice } from './model';

/** `general`: a general-purpose hypervisor, no passthrough (every device stays with the host). */
export const HOST_KINDS = ['gpu', 'sriov-nic', 'nvme', 'shared-group', 'legacy', 'general'] as const;
export type HostKind = (typeof HOST_KINDS)[number];

const VFIO = 'vfio-pci';

/** Per-host hardware quirks, drawn once so a host is internally consistent. */
interface HostTraits {
  gpuWithAudio: boolean;
  /** Booted with pcie_acs_override: groups are split although a port lacks ACS (strict mode catches it). */
  acsOverride: boolean;
  /** Ampere root ports, which need an ACS quirk (rejected by the acs-carried profile). */
  quirkRootPorts: boolean;
  brokenDownstreamRate: number;
  brokenRootPortRate: number;
  /** Chipset functions outside every DMA-remapping scope: no IOMMU group. */
  chipsetUngrouped: boolean;
}

// ---- device catalogue (real vendor:device ids, so quirk lists and dashboards look familiar) ----

const spec = (
  vendor: number,
  device: number,
  cls: number,
  driver: string | null,
  pcieType: DeviceSpec['pcieType'],
  acs: AcsState,
): DeviceSpec => ({ vendor, device, class: cls, driver, pcieType, acs });

const HOST_BRIDGE = spec(0x8086, 0x09a2, 0x060000, null, 'rc_integrated_endpoint', NO_ACS);
const ROOT_PORT = spec(0x8086, 0x347a, 0x060400, 'pcieport', 'root_port', FULL_ACS);
const AMPERE_ROOT_PORT = spec(0x1def, 0xe007, 0x060400, 'pcieport', 'root_port', FULL_ACS);
const PCH_ROOT_PORT = spec(0x8086, 0x7ab8, 0x060400, 'pcieport', 'root_port', NO_ACS);
const SWITCH_UP = spec(0x1000, 0xc010, 0x060400, 'pcieport', 'upstream_port', NO_ACS);
const SWITCH_DOWN = spec(0x1000, 0xc010, 0x060400, 'pcieport', 'downstream_port', FULL_ACS);
const GPU_DATACENTER = spec(0x10de, 0x2330, 0x030200, VFIO, 'endpoint', NO_ACS);
const GPU_WORKSTATION = spec(0x10de, 0x2230, 0x030000, VFIO, 'endpoint', NO_ACS);
const GPU_AUDIO = spec(0x10de, 0x1aef, 0x040300, VFIO, 'endpoint', NO_ACS);
const BOOT_NVME = spec(0x144d, 0xa80a, 0x010802, 'nvme', 'endpoint', NO_ACS);
const MGMT_NIC = spec(0x14e4, 0x165f, 0x020000, 'tg3', 'endpoint', NO_ACS);
const NVME_DRIVES = [
  spec(0x144d, 0xa824, 0x010802, VFIO, 'endpoint', NO_ACS),
  spec(0x8086, 0x0b60, 0x010802, VFIO, 'endpoint', NO_ACS),
  spec(0x1e0f, 0x0007, 0x010802, VFIO, 'endpoint', NO_ACS),
];
const LEGACY_BRIDGE = spec(0x1b21, 0x1080, 0x060401, null, 'pcie_to_pci_bridge', NO_ACS);
const LEGACY_CARDS = [
  spec(0x1415, 0xc158, 0x070002, VFIO, 'conventional', NO_ACS),
  spec(0x109e, 0x036e, 0x040000, VFIO, 'conventional', NO_ACS),
];
const HOST_NIC = spec(0x8086, 0x1593, 0x020000, 'ice', 'endpoint', NO_ACS);
const HOST_NVME = spec(0x144d, 0xa824, 0x010802, 'nvme', 'endpoint', NO_ACS);
const PASSTHROUGH_NIC = spec(0x8086, 0x1533, 0x020000, VFIO, 'endpoint', NO_ACS);
const DUAL_PORT_NIC = spec(0x8086, 0x1521, 0x020000, VFIO, 'endpoint', NO_ACS);
const CHIPSET = [
  spec(0x8086, 0x0b00, 0x088000, 'ioatdma', 'rc_integrated_endpoint', NO_ACS),
  spec(0x8086, 0xa1a3, 0x0c0500, 'i801_smbus', 'rc_integrated_endpoint', NO_ACS),
  spec(0x8086, 0x09a6, 0x088000, null, 'rc_integrated_endpoint', NO_ACS),
];

interface SriovModel {
  pf: DeviceSpec;
  vf: DeviceSpec;
  totalVfs: number;
}
const SRIOV_NICS: SriovModel[] = [
  {
    pf: spec(0x15b3, 0x101d, 0x020000, 'mlx5_core', 'endpoint', FULL_ACS),
    vf: spec(0x15b3, 0x101e, 0x020000, VFIO, 'endpoint', NO_ACS),
    totalVfs: 127,
  },
  {
    pf: spec(0x8086, 0x1592, 0x020000, 'ice', 'endpoint', FULL_ACS),
    vf: spec(0x8086, 0x1889, 0x020000, VFIO, 'endpoint', NO_ACS),
    totalVfs: 256,
  },
  {
    // 82599: no ACS capability; the kernel isolates its functions through pci_quirk_mf_endpoint_acs.
    pf: spec(0x8086, 0x10fb, 0x020000, 'ixgbe', 'endpoint', NO_ACS),
    vf: spec(0x8086, 0x10ed, 0x020000, VFIO, 'endpoint', NO_ACS),
    totalVfs: 63,
  },
];

const BREAKABLE_FLAGS = [ACS_BITS.SV, ACS_BITS.RR, ACS_BITS.CR, ACS_BITS.UF];

// Specs are shared by every device made from them, so multifunction variants are made once.
const multifunctionSpecs = new Map<DeviceSpec, DeviceSpec>();
function withMultifunction(s: DeviceSpec): DeviceSpec {
  let mf = multifunctionSpecs.get(s);
  if (mf === undefined) {
    mf = { ...s, multifunction: true };
    multifunctionSpecs.set(s, mf);
  }
  return mf;
}

// ---- building blocks ----

interface RootPort {
  port: PciDevice;
  group: GroupHandle;
  bus: number;
  chain: Bdf[];
}

function addRootPort(b: HostBuilder, portSpec: DeviceSpec): RootPort {
  const place = b.rootSlot();
  const group = b.newGroup();
  const port = b.add(place.bus, place.devfn, [], portSpec, group);
  return { port, group, bus: b.secondaryBus(), chain: [port.bdf] };
}

function addBase(b: HostBuilder): void {
  b.add(0, 0, [], HOST_BRIDGE, b.newGroup());
  const boot = addRootPort(b, ROOT_PORT);
  b.add(boot.bus, 0, boot.chain, BOOT_NVME, b.newGroup());
  const mgmt = addRootPort(b, ROOT_PORT);
  b.add(mgmt.bus, 0, mgmt.chain, MGMT_NIC, b.newGroup());
}

/** Adds devices within `max`; returns false when even the smallest variant does not fit. */
type Unit = (b: HostBuilder, rng: Prng, traits: HostTraits, max: number) => boolean;

/** Root port -> switch upstream port -> downstream ports -> one GPU (and its audio function) each. */
const gpuSwitch: Unit = (b, rng, traits, max) => {
  const perGpu = traits.gpuWithAudio ? 2 : 1;
  const ports = Math.min(4, Math.floor((max - 2) / (1 + perGpu)));
  if (ports < 1) return false;
  const rp = addRootPort(b, traits.quirkRootPorts ? AMPERE_ROOT_PORT : ROOT_PORT);
  const up = b.add(rp.bus, 0, rp.chain, SWITCH_UP, b.newGroup());
  const upChain = [up.bdf, ...rp.chain];
  const internalBus = b.secondaryBus();
  for (let i = 0; i < ports; i++) {
    const broken = rng.chance(traits.brokenDownstreamRate);
    const downSpec = broken ? { ...SWITCH_DOWN, acs: missingOneFlag(rng) } : downstreamAcs(rng);
    const downGroup = b.newGroup();
    const down = b.add(internalBus, i << 3, upChain, downSpec, downGroup);
    const chain = [down.bdf, ...upChain];
    const gpuBus = b.secondaryBus();
    // Behind a port without full ACS the kernel puts the GPU in the port's group (unless overridden).
    const group = broken && !traits.acsOverride ? downGroup : b.newGroup();
    if (traits.gpuWithAudio) {
      // GPU and audio: one multifunction device without ACS, so the kernel groups them together.
      b.add(gpuBus, 0, chain, withMultifunction(GPU_WORKSTATION), group);
      b.add(gpuBus, 1, chain, withMultifunction(GPU_AUDIO), group);
    } else {
      b.add(gpuBus, 0, chain, GPU_DATACENTER, group);
    }
  }
  return true;
};

function missingOneFlag(rng: Prng): AcsState {
  return { state: 'present', capability: 0x5f, control: ACS_CONTROL_DEFAULT & ~rng.pick(BREAKABLE_FLAGS) };
}

/** Most ports list every flag; some do not list UF, which then counts as hard-wired on. */
function downstreamAcs(rng: Prng): DeviceSpec {
  if (!rng.chance(0.1)) return SWITCH_DOWN;
  return { ...SWITCH_DOWN, acs: { state: 'present', capability: 0x4f, control: ACS_CONTROL_DEFAULT & ~ACS_BITS.UF } };
}

/** A NIC with one or two PF ports; some ports have VFs (bound to vfio-pci), some none. */
const sriovNic: Unit = (b, rng, _traits, max) => {
  const ports = Math.min(rng.chance(0.7) ? 2 : 1, max - 1);
  if (ports < 1) return false;
  const model = rng.pick(SRIOV_NICS);
  const rp = addRootPort(b, ROOT_PORT);
  let budget = max - 1 - ports;
  let devfn = ports;
  for (let p = 0; p < ports; p++) {
    const pfSpec = ports > 1 ? withMultifunction(model.pf) : model.pf;
    const pf = b.add(rp.bus, p, rp.chain, pfSpec, b.newGroup());
    pf.isPhysfn = true;
    pf.sriovTotalVfs = model.totalVfs;
    const vfs = Math.min(rng.pick([0, 4, 8, 8]), budget);
    budget -= vfs;
    for (let v = 0; v < vfs; v++) {
      const vf = b.add(rp.bus, devfn++, rp.chain, model.vf, b.newGroup());
      vf.isVirtfn = true;
      vf.physfn = pf.bdf;
      pf.virtfns.push(vf.bdf);
    }
  }
  return true;
};

/** One passthrough NVMe drive on its own root port; a port without ACS drags the drive into its group. */
const nvmeDrive: Unit = (b, rng, traits, max) => {
  if (max < 2) return false;
  const broken = rng.chance(traits.brokenRootPortRate);
  const rp = addRootPort(b, broken ? { ...ROOT_PORT, acs: NO_ACS } : ROOT_PORT);
  b.add(rp.bus, 0, rp.chain, rng.pick(NVME_DRIVES), broken ? rp.group : b.newGroup());
  return true;
};

/** PCH-style multifunction root ports without ACS: every port and device below share one group. */
const sharedRootSlot: Unit = (b, rng, _traits, max) => {
  const ports = Math.min(rng.int(2, 4), Math.floor(max / 2));
  if (ports < 2) return false;
  const place = b.rootSlot();
  const group = b.newGroup();
  for (let f = 0; f < ports; f++) {
    const port = b.add(place.bus, place.devfn + f, [], withMultifunction(PCH_ROOT_PORT), group);
    b.add(b.secondaryBus(), 0, [port.bdf], rng.chance(0.5) ? PASSTHROUGH_NIC : rng.pick(NVME_DRIVES), group);
  }
  return true;
};

/** A root port without ACS above a dual-port NIC: port and both functions in one group. */
const sharedDualFunction: Unit = (b, _rng, _traits, max) => {
  if (max < 3) return false;
  const rp = addRootPort(b, { ...ROOT_PORT, acs: NO_ACS });
  b.add(rp.bus, 0, rp.chain, withMultifunction(DUAL_PORT_NIC), rp.group);
  b.add(rp.bus, 1, rp.chain, withMultifunction(DUAL_PORT_NIC), rp.group);
  return true;
};

/** Root port -> PCIe-to-PCI bridge -> conventional cards, which the kernel groups with the bridge. */
const legacyBridge: Unit = (b, rng, _traits, max) => {
  const cards = Math.min(rng.int(1, 2), max - 2);
  if (cards < 1) return false;
  const rp = addRootPort(b, ROOT_PORT);
  const group = b.newGroup();
  const bridge = b.add(rp.bus, 0, rp.chain, LEGACY_BRIDGE, group);
  const pciBus = b.secondaryBus();
  const chain = [bridge.bdf, ...rp.chain];
  for (let i = 0; i < cards; i++) b.add(pciBus, (i + 1) << 3, chain, rng.pick(LEGACY_CARDS), group);
  return true;
};

/** A dual-port NIC the host itself drives (its VMs use virtio behind a bridge): no passthrough. */
const hostNic: Unit = (b, _rng, _traits, max) => {
  if (max < 3) return false;
  const rp = addRootPort(b, ROOT_PORT);
  const group = b.newGroup();
  b.add(rp.bus, 0, rp.chain, withMultifunction(HOST_NIC), group);
  b.add(rp.bus, 1, rp.chain, withMultifunction(HOST_NIC), group);
  return true;
};

/** A data NVMe drive the host itself drives (guest disks are files or volumes on it). */
const hostNvme: Unit = (b, _rng, _traits, max) => {
  if (max < 2) return false;
  const rp = addRootPort(b, ROOT_PORT);
  b.add(rp.bus, 0, rp.chain, HOST_NVME, b.newGroup());
  return true;
};

interface KindRecipe {
  /** The units of a host of natural size. */
  natural(rng: Prng): Unit[];
  /** Units repeated, in turn, to fill an exact device count. */
  cycle: Unit[];
}

const RECIPES: Record<HostKind, KindRecipe> = {
  gpu: { natural: () => [gpuSwitch, gpuSwitch], cycle: [gpuSwitch] },
  'sriov-nic': { natural: () => [sriovNic, sriovNic], cycle: [sriovNic] },
  nvme: { natural: (rng) => new Array<Unit>(rng.int(8, 14)).fill(nvmeDrive), cycle: [nvmeDrive] },
  'shared-group': {
    natural: () => [sharedRootSlot, sharedDualFunction, nvmeDrive, nvmeDrive],
    cycle: [sharedRootSlot, sharedDualFunction, nvmeDrive],
  },
  legacy: {
    natural: (rng) => [legacyBridge, ...new Array<Unit>(rng.int(2, 4)).fill(nvmeDrive)],
    cycle: [legacyBridge, nvmeDrive, nvmeDrive, nvmeDrive],
  },
  general: { natural: (rng) => [hostNic, ...new Array<Unit>(rng.int(2, 4)).fill(hostNvme)], cycle: [hostNic, hostNvme] },
};

function drawTraits(rng: Prng): HostTraits {
  return {
    gpuWithAudio: rng.chance(0.4),
    acsOverride: rng.chance(0.3),
    quirkRootPorts: rng.chance(0.1),
    brokenDownstreamRate: rng.chance(0.3) ? 0.25 : 0,
    brokenRootPortRate: rng.chance(0.2) ? 0.1 : 0,
    chipsetUngrouped: rng.chance(0.05),
  };
}

/** One host of a kind: exactly `devices` devices when given, else the kind's natural size. */
export function buildHostTopology(kind: HostKind, rng: Prng, devices: number | undefined): HostTopology {
  const traits = drawTraits(rng);
  const recipe = RECIPES[kind];
  const b = new HostBuilder(devices ?? Number.MAX_SAFE_INTEGER);
  addBase(b);
  if (devices === undefined) {
    for (const unit of recipe.natural(rng)) unit(b, rng, traits, Number.MAX_SAFE_INTEGER);
    const chipset = rng.int(2, 4);
    for (let i = 0; i < chipset; i++) b.addChipsetFunction(rng.pick(CHIPSET), !traits.chipsetUngrouped);
  } else {
    let idle = 0;
    for (let i = 0; b.remaining > 0 && idle < recipe.cycle.length; i++) {
      const added = recipe.cycle[i % recipe.cycle.length](b, rng, traits, b.remaining);
      idle = added ? 0 : idle + 1;
    }
    while (b.remaining > 0) b.addChipsetFunction(rng.pick(CHIPSET), !traits.chipsetUngrouped);
  }
  return b.build();
}
