import type { Bdf, HostTopology } from '@luo-fleet/topology';
import type { PreservationSet } from '@luo-fleet/preservation';
import { DEFAULT_STRATEGY, STRATEGY_PHASES, type Strategy } from './phases';
import type { HandoverReason } from './journal';

/** What the plan saw of a device it preserves: precheck and retrieve compare the host against it. */
export interface PlannedDevice {
  bdf: Bdf;
  vendor: number;
  device: number;
  class: number;
  iommuGroup: number | null;
  groupMembers: Bdf[];
}

/** Where `drain` live-migrates one VM (design 4.6, `evacuate`). */
export interface VmMigration {
  vmId: string;
  targetHostId: string;
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
  /**
   * How the host reaches the target kernel (design 4.6); absent means `live-update`, so a
   * Live Update's plan (and its job) is what it was before strategies existed.
   */
  strategy?: Strategy;
  /** `live-update-restart`: the VMs stopped before `preserve` and started after `finish`, by id. */
  restartVms?: string[];
  /** `evacuate`: the target of every VM on the host. */
  migrations?: VmMigration[];
  /** The strategies preferred to this one that did not apply, and why (design 4.6). */
  passedOver?: { strategy: Strategy; reasons: HandoverReason[]; detail: string }[];
}

export interface HandoverPlanInput {
  hostId: string;
  rolloutId: string;
  targetKernel: string;
  topology: HostTopology;
  /**
   * The devices that ride the kexec: every requested one for `live-update`, those not held by a
   * VM it stops for `live-update-restart`. Ignored by `evacuate`, which preserves nothing.
   */
  preservationSet: PreservationSet;
  startBy?: number;
  strategy?: Strategy;
  restartVms?: string[];
  migrations?: VmMigration[];
}

/** A handover's id: one per host per rollout, so a re-enqueued job finds the same journal. */
export function handoverIdOf(rolloutId: string, hostId: string): string {
  return `${rolloutId}.${hostId}`;
}

export function buildHandoverPlan(input: HandoverPlanInput): HandoverPlan {
  const strategy = input.strategy ?? DEFAULT_STRATEGY;
  // A strategy that preserves nothing hands the host no devices, so it has none to check either.
  const preserves = STRATEGY_PHASES[strategy].preserves;
  const { profile, strictAcs } = input.preservationSet;
  const preservationSet = preserves ? input.preservationSet : emptyPreservationSet(profile, strictAcs);
  const byBdf = new Map(input.topology.devices.map((d) => [d.bdf, d]));
  const plannedDevices: PlannedDevice[] = [];
  for (const verdict of preservationSet.devices) {
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
  const plan: HandoverPlan = {
    handoverId: handoverIdOf(input.rolloutId, input.hostId),
    hostId: input.hostId,
    rolloutId: input.rolloutId,
    targetKernel: input.targetKernel,
    profile,
    strictAcs,
    preservationSet,
    plannedDevices,
    ...(input.startBy === undefined ? {} : { startBy: input.startBy }),
  };
  // A Live Update's plan stays as it was before strategies: no strategy fields at all.
  if (strategy !== DEFAULT_STRATEGY) plan.strategy = strategy;
  if (strategy === 'live-update-restart') plan.restartVms = input.restartVms ?? [];
  if (strategy === 'evacuate') plan.migrations = input.migrations ?? [];
  return plan;
}

/** A plan that preserves nothing still names its rule profile; every device it requests (none) passes. */
function emptyPreservationSet(profile: string, strictAcs: boolean): PreservationSet {
  return { profile, strictAcs, devices: [], summary: { requested: 0, preservable: 0, rejected: 0, eligible: true, byReason: {} } };
}

/** The devices a handover preserves: every requested one, since only eligible hosts are handed over. */
export function preservedBdfs(plan: HandoverPlan): Bdf[] {
  return plan.preservationSet.devices.filter((d) => d.preservable).map((d) => d.bdf);
}
