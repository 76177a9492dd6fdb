/** Hand-built topologies and step contexts for the simulated host's specs. */
import type { Bdf, HostTopology, PciDevice } from '@luo-fleet/topology';
import type { DeviceVerdict, PreservationSet } from '@luo-fleet/preservation';
import type { StepContext } from '@luo-fleet/handover';

export const GPU_A = '0000:3b:00.0';
export const GPU_B = '0000:5e:00.0';
export const NIC_PF = '0000:af:00.0';
export const OLD_KERNEL = '6.12.0-old';
export const NEW_KERNEL = '6.18.0-new';

export function device(bdf: Bdf, group: number | null, over: Partial<PciDevice> = {}): PciDevice {
  return {
    bdf,
    vendor: 0x10de,
    device: 0x2330,
    class: 0x030200,
    driver: 'vfio-pci',
    parentChain: ['0000:3a:00.0'],
    isVirtfn: false,
    physfn: null,
    isPhysfn: false,
    sriovTotalVfs: 0,
    virtfns: [],
    iommuGroup: group,
    pcieType: 'endpoint',
    multifunction: false,
    acs: { state: 'absent' },
    ...over,
  };
}

export function topologyOf(devices: PciDevice[]): HostTopology {
  const groups: Record<string, Bdf[]> = {};
  for (const d of devices) if (d.iommuGroup !== null) (groups[String(d.iommuGroup)] ??= []).push(d.bdf);
  for (const members of Object.values(groups)) members.sort();
  return { devices: [...devices].sort((a, b) => a.bdf.localeCompare(b.bdf)), iommuGroups: groups };
}

/** Two preservable GPUs in singleton groups, and an SR-IOV NIC PF that cannot be preserved. */
export function twoGpuHost(): HostTopology {
  return topologyOf([
    device(GPU_A, 10),
    device(GPU_B, 11),
    device(NIC_PF, 12, { isPhysfn: true, sriovTotalVfs: 8, vendor: 0x15b3, device: 0x101d, class: 0x020000 }),
    device('0000:00:1f.0', 1, { driver: null, parentChain: [] }),
  ]);
}

/** The verdicts the planner would give; written out by hand so these specs test the host, not the rules. */
export function preservationSetOf(verdicts: Array<{ bdf: Bdf; preservable: boolean }>): PreservationSet {
  const devices: DeviceVerdict[] = verdicts.map((v) => ({
    bdf: v.bdf,
    preservable: v.preservable,
    reasons: v.preservable ? [] : ['IS_PHYSFN'],
    iommuGroup: null,
    groupMembers: [],
    details: {},
  }));
  const preservable = devices.filter((d) => d.preservable).length;
  return {
    profile: 'singleton-group',
    strictAcs: false,
    devices,
    summary: {
      requested: devices.length,
      preservable,
      rejected: devices.length - preservable,
      eligible: preservable === devices.length,
      byReason: {},
    },
  };
}

export function contextFor(hostId: string, preservationSet: PreservationSet, targetKernel = NEW_KERNEL): StepContext {
  return {
    handoverId: `r1.${hostId}`,
    hostId,
    rolloutId: 'r1',
    targetKernel,
    preservationSet,
    requestId: `r1.${hostId}/step`,
  };
}

/** A clock that only moves when someone sleeps: every latency and boot delay becomes exact and instant. */
export function fakeTime(start = 1_700_000_000_000) {
  const time = { now: start, slept: [] as number[] };
  return {
    time,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.slept.push(ms);
      time.now += ms;
    },
  };
}
