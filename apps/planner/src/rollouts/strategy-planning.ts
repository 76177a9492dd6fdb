import { buildPreservationSet, type PreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, DEFAULT_STRATEGY, type HandoverPlan, type HostStrategy, type Strategy } from '@luo-fleet/handover';
import { chooseStrategies, spreadAcrossDomains, type EvacuatedVm, type RolloutSpec } from '@luo-fleet/rollout';
import { hostReasonsOf, type CapacityRecord, type InventoryHost, type RolloutHostInput } from '@luo-fleet/store';
import type { HostTopology } from '@luo-fleet/topology';

/** A host with a topology, planned under the rollout's profile, before its strategy is chosen. */
export interface StrategyCandidateHost {
  host: InventoryHost & { topology: HostTopology };
  domain: string;
  set: PreservationSet;
}

/** What the plan forecasts of its strategies: hosts and VMs per strategy, disruption, and why strategies were passed over. */
export interface StrategyForecast {
  byStrategy: Partial<Record<HostStrategy, { hosts: number; vms: number }>>;
  /** VMs by what the update is planned to do to them (design 4.4 kinds, `lost` never planned). */
  disruption: { preserved: number; migrated: number; restarted: number };
  /** For each strategy, the hosts it did not apply to, by reason code (a host counts once per code). */
  passedOver: Partial<Record<Strategy, Record<string, number>>>;
  restarts: { planned: number; budget: number };
}

export interface StrategyPlanning {
  /** In admission order: every other strategy first, then evacuations (they need hosts that ended), then skips. */
  hosts: RolloutHostInput[];
  forecast: StrategyForecast;
  /** The hosts it evacuates, for EvacuationCapacity.record. */
  capacity: Map<string, CapacityRecord>;
}

/** Whether a spec asks for anything beyond today's Live Update (else the plan is exactly as before strategies). */
export function usesStrategies(spec: Pick<RolloutSpec, 'strategies'>): boolean {
  const s = spec.strategies;
  return s !== undefined && !(s.length === 1 && s[0] === DEFAULT_STRATEGY);
}

/** A VM's size as evacuation counts it: its memory, and one vCPU (the inventory does not carry vCPUs yet). */
function sizeOf(vm: { id: string; memory: { sizeMiB: number } }): EvacuatedVm {
  return { id: vm.id, vcpus: 1, memoryMiB: vm.memory.sizeMiB };
}

/**
 * Chooses each host's strategy (chooseStrategies, in admission order so that the first hosts spend
 * the restart budget, with the host-level codes its inventory facts imply: hostReasonsOf) and builds its handover plan: the strategy, the VMs it restarts and the
 * devices that ride the kexec; an evacuation's migrations are chosen when it is admitted.
 */
export function planStrategies(spec: RolloutSpec, rolloutId: string, candidates: StrategyCandidateHost[]): StrategyPlanning {
  const ordered = spreadAcrossDomains(candidates, (c) => c.domain);
  const plan = chooseStrategies(
    ordered.map((c) => ({ hostId: c.host.id, preservation: c.set, vms: c.host.vms, hostReasons: hostReasonsOf(c.host) })),
    spec,
  );
  const forecast: StrategyForecast = { byStrategy: {}, disruption: { preserved: 0, migrated: 0, restarted: 0 }, passedOver: {}, restarts: { planned: plan.restarts, budget: plan.restartBudget } };
  const first: RolloutHostInput[] = [];
  const evacuations: RolloutHostInput[] = [];
  const skipped: RolloutHostInput[] = [];
  const capacity = new Map<string, CapacityRecord>();
  plan.choices.forEach((choice, i) => {
    const { host, domain, set } = ordered[i];
    const vms = host.vms.length;
    const tally = (forecast.byStrategy[choice.strategy] ??= { hosts: 0, vms: 0 });
    tally.hosts++;
    tally.vms += vms;
    for (const r of choice.rejected) {
      const counts = (forecast.passedOver[r.strategy] ??= {});
      for (const code of new Set(r.reasons)) counts[code] = (counts[code] ?? 0) + 1;
    }
    if (choice.strategy === 'evacuate') capacity.set(host.id, { domain, ...(vms > 0 ? { evacuees: host.vms.map(sizeOf) } : {}) });
    const passedOver = choice.rejected.map((r) => `${r.strategy}: ${r.reasons.join(',')} (${r.detail})`).join('; ');
    if (choice.strategy === 'skip') {
      skipped.push({ hostId: host.id, domain, skip: { reasons: choice.reasons, error: `no strategy applies: ${passedOver}` } });
      return;
    }
    const restart = new Set(choice.restartVms);
    const preservationSet =
      choice.strategy === 'live-update-restart'
        ? buildPreservationSet(host.topology, choice.preservedDevices, { profile: spec.profile, strictAcs: spec.strictAcs, vms: host.vms.filter((vm) => !restart.has(vm.id)) })
        : set;
    const handoverPlan: HandoverPlan = buildHandoverPlan({
      hostId: host.id,
      rolloutId,
      targetKernel: spec.targetKernel,
      topology: host.topology,
      preservationSet,
      startBy: spec.window.cutoffAt,
      strategy: choice.strategy,
      restartVms: choice.restartVms,
      migrations: [],
    });
    if (choice.rejected.length > 0) handoverPlan.passedOver = choice.rejected;
    if (choice.strategy === 'evacuate') forecast.disruption.migrated += vms;
    else {
      forecast.disruption.restarted += restart.size;
      forecast.disruption.preserved += vms - restart.size;
    }
    (choice.strategy === 'evacuate' ? evacuations : first).push({ hostId: host.id, domain, job: { plan: handoverPlan, driver: host.driver } });
  });
  return { hosts: [...first, ...evacuations, ...skipped], forecast, capacity };
}
