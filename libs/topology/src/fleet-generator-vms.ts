import type { HostKind } from './fleet-generator-kinds';
import type { Prng } from './fleet-generator-prng';
import type { Bdf, HostTopology, PciDevice } from './model';
import type { MemoryBacking, Vm } from './vm';

const VFIO = 'vfio-pci';

/** How a kind's VMs look: what they run on, how big they are, how their memory is backed. */
interface VmProfile {
  /** MiB of a VM holding devices, as [min, max] in GiB steps. */
  sizeGiB: [number, number];
  /** Backing of a VM holding devices: shares of memfd-shmem, memfd-hugetlb, anonymous, file. */
  backing: [number, number, number, number];
  /** Chance that a VM holding devices also has a balloon (a virtio-mem device otherwise, at the same rate). */
  resizer: number;
  migratable: number;
  /** Several passthrough units per VM (e.g. an 8-GPU training VM) instead of one each. */
  unitsPerVm: [number, number];
  /** Device-less VMs beside those holding devices, as [min, max]. */
  plainVms: [number, number];
  /**
   * Device-less VMs' backing, the same shares as `backing`; `host`: one backing for every VM of
   * the host, `memfd-shmem` or, at `anonymousHosts`, `anonymous` (how its VMM is configured).
   */
  plainBacking: [number, number, number, number] | { anonymousHosts: number };
  plainMigratable: number;
}

const PLAIN = { plainVms: [1, 6], plainBacking: [0.8, 0, 0.15, 0.05], plainMigratable: 0.9 } satisfies Partial<VmProfile>;

const PROFILES: Record<HostKind, VmProfile> = {
  // Training VMs on whole GPUs: large, mostly on hugetlb pages (MEMORY_HUGETLB), never migratable.
  gpu: { sizeGiB: [64, 512], backing: [0.2, 0.75, 0.05, 0], resizer: 0.05, migratable: 0, unitsPerVm: [1, 2], ...PLAIN },
  // Many small tenant VMs, one VF each; some with a balloon (IOAS_MUTABLE), a few on anonymous memory.
  'sriov-nic': { sizeGiB: [2, 8], backing: [0.85, 0, 0.1, 0.05], resizer: 0.15, migratable: 0.3, unitsPerVm: [1, 1], ...PLAIN },
  nvme: { sizeGiB: [16, 128], backing: [0.7, 0.2, 0.1, 0], resizer: 0.1, migratable: 0.1, unitsPerVm: [1, 2], ...PLAIN },
  'shared-group': { sizeGiB: [8, 64], backing: [0.8, 0.05, 0.15, 0], resizer: 0.1, migratable: 0.2, unitsPerVm: [1, 1], ...PLAIN },
  // Old VMMs: anonymous or file-backed guest memory (MEMORY_NOT_MEMFD).
  legacy: { sizeGiB: [4, 32], backing: [0.2, 0, 0.6, 0.2], resizer: 0.2, migratable: 0.5, unitsPerVm: [1, 1], ...PLAIN },
  // General-purpose: no passthrough, more tenant VMs, all live-migratable; a VMM either backs
  // every guest with a shmem memfd (the host rides a Live Update) or none (anonymous memory).
  general: { sizeGiB: [1, 16], backing: [1, 0, 0, 0], resizer: 0, migratable: 1, unitsPerVm: [1, 1], plainVms: [4, 12], plainBacking: { anonymousHosts: 0.4 }, plainMigratable: 1 },
};

const BACKINGS: readonly MemoryBacking[] = ['memfd-shmem', 'memfd-hugetlb', 'anonymous', 'file'];

/** Per-host VM habits, drawn once so a host is internally consistent. */
interface VmTraits {
  /** Every VM on a shmem memfd without resizers, on devices the seed kernel preserves: the host rides a Live Update whole. */
  rideEntirely: boolean;
  /** Share of passthrough units bound to vfio-pci that no VM holds (spares, or a drained host). */
  idleRate: number;
  /** Backing shares of its device-less VMs. */
  plainBacking: readonly number[];
}

function drawTraits(rng: Prng, profile: VmProfile): VmTraits {
  const spares = rng.chance(0.2);
  const traits = { rideEntirely: rng.chance(0.2), idleRate: spares ? 0.3 + rng.next() * 0.4 : rng.chance(0.5) ? 0.05 : 0 };
  const b = profile.plainBacking;
  // Drawn only for a host-wide backing, so hosts of the other kinds use the random stream as before.
  return { ...traits, plainBacking: Array.isArray(b) ? b : rng.chance(b.anonymousHosts) ? [0, 0, 1, 0] : [1, 0, 0, 0] };
}

/**
 * The VMs of a generated host: every passthrough unit (a vfio-pci device, or the functions of one
 * multifunction slot together) goes to a VM unless left idle, and device-less VMs fill the rest.
 * `count` asks for exactly that many VMs (units are then spread over them in turn). Only vfio-pci
 * devices are assigned, so a host's device verdicts are the same with or without its VMs.
 */
export function buildHostVms(kind: HostKind, topology: HostTopology, rng: Prng, count: number | undefined): Vm[] {
  const profile = PROFILES[kind];
  const traits = drawTraits(rng, profile);
  const units = passthroughUnits(topology, traits.rideEntirely).filter(() => !rng.chance(traits.idleRate));
  const groups: Bdf[][] = [];
  if (count === undefined) {
    for (let i = 0; i < units.length; ) {
      const take = rng.int(profile.unitsPerVm[0], profile.unitsPerVm[1]);
      groups.push(units.slice(i, i + take).flat());
      i += take;
    }
    const plain = rng.int(profile.plainVms[0], profile.plainVms[1]);
    for (let i = 0; i < plain; i++) groups.push([]);
  } else {
    for (let i = 0; i < count; i++) groups.push([]);
    if (count > 0) units.forEach((unit, i) => groups[i % count].push(...unit));
  }
  return groups.map((devices, i) => makeVm(`vm-${String(i).padStart(3, '0')}`, devices, profile, traits, rng));
}

function makeVm(id: string, devices: Bdf[], profile: VmProfile, traits: VmTraits, rng: Prng): Vm {
  const withDevices = devices.length > 0;
  // Device-less VMs are general-purpose guests: small, mostly shmem, often ballooned (harmless without devices).
  const backing = traits.rideEntirely ? 'memfd-shmem' : draw(rng, withDevices ? profile.backing : traits.plainBacking);
  const [min, max] = withDevices ? profile.sizeGiB : [1, 16];
  const resizer = traits.rideEntirely && withDevices ? false : rng.chance(withDevices ? 2 * profile.resizer : 0.3);
  const balloon = resizer && rng.chance(0.5);
  return {
    id,
    devices,
    memory: { backing, sizeMiB: rng.int(min, max) * 1024 },
    balloon,
    virtioMem: resizer && !balloon,
    migratable: rng.chance(withDevices ? profile.migratable : profile.plainMigratable),
  };
}

function draw(rng: Prng, shares: readonly number[]): MemoryBacking {
  const u = rng.next();
  let acc = 0;
  for (let i = 0; i < shares.length; i++) {
    acc += shares[i];
    if (u < acc) return BACKINGS[i];
  }
  return BACKINGS[0];
}

/**
 * vfio-pci devices in BDF order, the functions of a multifunction slot (a GPU and its audio) as one
 * unit. `cleanOnly`: only devices the seed kernel's rules accept (no SR-IOV, alone in their group).
 */
function passthroughUnits(topology: HostTopology, cleanOnly: boolean): Bdf[][] {
  const units: Bdf[][] = [];
  let slot = '';
  for (const device of topology.devices) {
    if (device.driver !== VFIO || (cleanOnly && !isClean(device, topology))) continue;
    const here = device.bdf.slice(0, -2);
    if (device.multifunction && !device.isVirtfn && here === slot) units[units.length - 1].push(device.bdf);
    else units.push([device.bdf]);
    slot = device.multifunction && !device.isVirtfn ? here : '';
  }
  return units;
}

function isClean(device: PciDevice, topology: HostTopology): boolean {
  return !device.isVirtfn && !device.isPhysfn && device.iommuGroup !== null && topology.iommuGroups[String(device.iommuGroup)]?.length === 1;
}
