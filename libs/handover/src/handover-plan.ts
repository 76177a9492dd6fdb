import type { Bdf, HostTopology } from '@luo-fleet/topology';
import type { PreservationSet } from '@luo-fleet/preservation';

/** What the plan saw of a device it preserves: precheck and retrieve compare the host against it. */
export interface PlannedDevice {
  bdf: Bdf;
  vendor: number;
  device: number;
  class: number;
  iommuGroup: number | null;
  groupMembers: Bdf[];
}

/** Everything a worker needs to drive one host; built by the planner, carried in the job. */
export interface HandoverPlan {
  handoverId: string;
  hostId: string;
  rolloutId: string;
  targetKernel: string;
  profile: string;
  strictAcs: boolean;
  preservationSet: PreservationSet;
  plannedDevices: PlannedDevice[];
  /** Epoch ms after which this handover must not start (the window's cutoff); it ends `cancelled`. */
  startBy?: number;
}

export interface HandoverPlanInput {
  hostId: string;
  rolloutId: string;
  targetKernel: string;
  topology: HostTopology;
  preservationSet: PreservationSet;
  startBy?: number;
}

/** A handover's id: one per host per rollout, so a re-enqueued job finds the same journal. */
export function handoverIdOf(rolloutId: string, hostId: string): string {
  return `${rolloutId}.${hostId}`;
}

export function buildHandoverPlan(input: HandoverPlanInput): HandoverPlan {
  const byBdf = new Map(input.topology.devices.map((d) => [d.bdf, d]));
  const plannedDevices: PlannedDevice[] = [];
  for (const verdict of input.preservationSet.devices) {
    const dev = byBdf.get(verdict.bdf);
    if (!dev) continue;
    plannedDevices.push({
      bdf: dev.bdf,
      vendor: dev.vendor,
      device: dev.device,
      class: dev.class,
      iommuGroup: dev.iommuGroup,
      groupMembers: dev.iommuGroup === null ? [] : [...(input.topology.iommuGroups[String(dev.iommuGroup)] ?? [])],
    });
  }
  return {
    handoverId: handoverIdOf(input.rolloutId, input.hostId),
    hostId: input.hostId,
    rolloutId: input.rolloutId,
    targetKernel: input.targetKernel,
    profile: input.preservationSet.profile,
    strictAcs: input.preservationSet.strictAcs,
    preservationSet: input.preservationSet,
    plannedDevices,
    ...(input.startBy === undefined ? {} : { startBy: input.startBy }),
  };
}

/** The devices a handover preserves: every requested one, since only eligible hosts are handed over. */
export function preservedBdfs(plan: HandoverPlan): Bdf[] {
  return plan.preservationSet.devices.filter((d) => d.preservable).map((d) => d.bdf);
}
