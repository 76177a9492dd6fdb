import type { HandoverOrder } from '@luo-fleet/handover';
import { chooseEvacuationTargets, type EvacuatedVm } from '@luo-fleet/rollout';
import type { EvacuationCapacity, RolloutStore } from '@luo-fleet/store';

/** What an evacuation needs to be placed: its VMs and failure domain, as recorded at creation. */
export interface Evacuee {
  domain: string;
  vms: EvacuatedVm[];
}

/**
 * Gives each admitted evacuation its targets before its job runs: chooses them on the rollout's
 * recorded capacity (chooseEvacuationTargets) and reserves them atomically (EvacuationCapacity);
 * a host whose VMs have nowhere to go waits in `waiting_capacity` and is tried again later.
 * Every other job passes through untouched.
 */
export class EvacuationPlacement {
  constructor(
    private readonly store: RolloutStore,
    private readonly capacity: EvacuationCapacity,
  ) {}

  /** The jobs that may run now (with their migrations); those left waiting are marked so. */
  async place(rolloutId: string, jobs: HandoverOrder[], sameDomain: boolean): Promise<HandoverOrder[]> {
    const evacuations = jobs.filter((j) => j.plan.strategy === 'evacuate');
    if (evacuations.length === 0) return jobs;
    const ready = jobs.filter((j) => j.plan.strategy !== 'evacuate');
    const waiting: string[] = [];
    const evacuees = await this.capacity.evacuees(rolloutId, evacuations.map((j) => j.plan.hostId));
    for (const job of evacuations) {
      const migrations = await this.targetsOf(rolloutId, job.plan.hostId, evacuees.get(job.plan.hostId), sameDomain);
      if (migrations === null) waiting.push(job.plan.hostId);
      else ready.push({ ...job, plan: { ...job.plan, migrations } });
    }
    await this.store.markUnstarted(rolloutId, 'waiting_capacity', waiting);
    return ready;
  }

  private async targetsOf(rolloutId: string, hostId: string, evacuee: Evacuee | undefined, sameDomain: boolean) {
    const held = await this.capacity.reserved(rolloutId, hostId);
    if (held !== null) return held;
    if (evacuee === undefined || evacuee.vms.length === 0) return [];
    const { hosts, busy } = await this.capacity.targets(rolloutId);
    const choice = chooseEvacuationTargets({ source: { hostId, domain: evacuee.domain, vms: evacuee.vms }, hosts, busy, reservations: [], sameDomain });
    if (choice.kind === 'waiting_capacity') return null;
    // Refused when another evacuation took the room first: the host waits and is tried again.
    return this.capacity.reserve(rolloutId, hostId, choice.migrations, new Map(evacuee.vms.map((vm) => [vm.id, vm])));
  }
}
