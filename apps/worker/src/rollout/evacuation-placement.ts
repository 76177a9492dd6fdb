import type { HandoverOrder } from '@luo-fleet/handover';
import { chooseEvacuationTargets, type EvacuatedVm } from '@luo-fleet/rollout';
import type { EvacuationCapacity, FleetCapacity, RolloutStore } from '@luo-fleet/store';

/** What an evacuation needs to be placed: its VMs and failure domain, as recorded at creation. */
export interface Evacuee {
  domain: string;
  vms: EvacuatedVm[];
}

/** What placement needs of a rollout's spec. */
export interface EvacuationSpec {
  sameDomain: boolean;
  /** The label whose value is a failure domain (`maxPerFailureDomain.key`, `rack` by default). */
  domainKey: string;
  targetKernel: string;
}

/**
 * Hosts read as candidates for one evacuation when any domain will do: those with the most room
 * left fleet-wide (the room index), a bounded read however large the inventory.
 */
export const TARGET_CANDIDATES = 256;

/**
 * Gives each admitted evacuation its targets before its job runs: chooses them among inventory
 * hosts with room (FleetCapacity.targets, chooseEvacuationTargets) and reserves them atomically
 * against every rollout (FleetCapacity.reserve); a host whose VMs have nowhere to go waits in
 * `waiting_capacity` and is tried again later. Every other job passes through untouched.
 */
export class EvacuationPlacement {
  constructor(
    private readonly store: RolloutStore,
    private readonly capacity: EvacuationCapacity,
    private readonly fleet: FleetCapacity,
  ) {}

  /** The jobs that may run now (with their migrations); those left waiting are marked so. */
  async place(rolloutId: string, jobs: HandoverOrder[], spec: EvacuationSpec): Promise<HandoverOrder[]> {
    const evacuations = jobs.filter((j) => j.plan.strategy === 'evacuate');
    if (evacuations.length === 0) return jobs;
    const ready = jobs.filter((j) => j.plan.strategy !== 'evacuate');
    const waiting: string[] = [];
    const evacuees = await this.capacity.evacuees(rolloutId, evacuations.map((j) => j.plan.hostId));
    for (const job of evacuations) {
      const migrations = await this.targetsOf(rolloutId, job.plan.hostId, evacuees.get(job.plan.hostId), spec);
      if (migrations === null) waiting.push(job.plan.hostId);
      else ready.push({ ...job, plan: { ...job.plan, migrations } });
    }
    await this.store.markUnstarted(rolloutId, 'waiting_capacity', waiting);
    return ready;
  }

  private async targetsOf(rolloutId: string, hostId: string, evacuee: Evacuee | undefined, spec: EvacuationSpec) {
    const held = await this.fleet.reserved(rolloutId, hostId);
    if (held !== null) return held;
    if (evacuee === undefined || evacuee.vms.length === 0) return [];
    const { hosts, busy } = await this.fleet.targets({
      targetKernel: spec.targetKernel,
      domainKey: spec.domainKey,
      ...(spec.sameDomain ? { domain: evacuee.domain } : {}),
      limit: TARGET_CANDIDATES + evacuee.vms.length,
    });
    const choice = chooseEvacuationTargets({ source: { hostId, domain: evacuee.domain, vms: evacuee.vms }, hosts, busy, reservations: [], sameDomain: spec.sameDomain });
    if (choice.kind === 'waiting_capacity') return null;
    // Refused when another evacuation (of any rollout) took the room first: the host waits and is tried again.
    return this.fleet.reserve(rolloutId, hostId, choice.migrations, new Map(evacuee.vms.map((vm) => [vm.id, vm])));
  }
}
