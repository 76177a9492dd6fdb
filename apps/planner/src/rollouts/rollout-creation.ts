import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@luo-fleet/redis';
import { addVmCounts, buildPreservationSet, emptyVmCounts, ruleProfile, type HostReason, type PreservationSet, type VmCounts } from '@luo-fleet/preservation';
import { buildHandoverPlan, type HandoverReason, type HostDriverSpec } from '@luo-fleet/handover';
import type { HostTopology } from '@luo-fleet/topology';
import {
  failureDomainKey,
  predictSchedule,
  resolveLimits,
  spreadAcrossDomains,
  type PredictedSchedule,
  type ResolvedLimits,
  type Rollout,
  type RolloutSpec,
} from '@luo-fleet/rollout';
import type { InventoryHost } from '@luo-fleet/store';
import { hostReasonsOf, labelValue, parseSelector } from '@luo-fleet/store';
import type { InventoryStore } from '@luo-fleet/store';
import type { FleetKeys } from '@luo-fleet/redis';
import { EvacuationCapacity, FleetCapacity, type CapacityRecord, type DeviceValidationCount, type RolloutHostInput, type RolloutStore, type VmValidationCount } from '@luo-fleet/store';
import { planStrategies, usesStrategies, type StrategyCandidateHost, type StrategyForecast } from './strategy-planning';

/** A rollout request that is well-formed but cannot be carried out as asked; names the field. */
export class RolloutInputError extends Error {
  override name = 'RolloutInputError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A host the rollout will hand over, with the topology and preservation set it was planned with. */
export interface PlannedHost {
  host: InventoryHost;
  topology: HostTopology;
  set: PreservationSet;
}

/**
 * What a driver needs done to the rollout's planned hosts before they can be handed over (the
 * simulated driver creates its simulated hosts). It runs once per stored rollout, beside the
 * rollout's own writes and before its coordinator is enqueued.
 */
export type HostRegistrationStep = (rollout: Rollout, planned: PlannedHost[], opts: RolloutCreationOptions) => Promise<void>;

export interface RolloutCreationDeps {
  redis: RedisClient;
  keys: FleetKeys;
  inventory: InventoryStore;
  rollouts: RolloutStore;
  /** By driver kind; a driver without one (the agent) needs nothing registered. */
  hostRegistration: Partial<Record<HostDriverSpec['kind'], HostRegistrationStep>>;
  /** Enqueues the rollout's coordinator job, delayed until its window opens. */
  enqueueCoordinator(rolloutId: string, delayMs: number): Promise<void>;
}

export interface RolloutPlanSummary {
  hosts: number;
  eligible: number;
  skipped: number;
  /** Skipped hosts by the first reason of their first rejected device. */
  skippedByReason: Record<string, number>;
  /** The planned hosts' VMs by verdict and by each reason (design 4.5); skipped hosts' VMs included. */
  vms: VmCounts;
  limits: ResolvedLimits;
  schedule: PredictedSchedule;
  /** Only when the rollout allows more than `live-update`: hosts and VMs per strategy, the forecast disruption, why strategies were passed over. */
  strategies?: StrategyForecast;
}

export interface RolloutCreation {
  rollout: Rollout;
  plan: RolloutPlanSummary;
}

export interface RolloutCreationOptions {
  createdBy: string;
  now?: number;
  /** Seed for simulated fault draws (demos and chaos runs are repeatable). */
  seed?: number;
  /** Estimate of one handover, for the predicted schedule. */
  expectedHandoverSeconds?: number;
}

/**
 * Turns a maintenance-window request into a stored rollout: selects the hosts, plans each one
 * under the rollout's rule profile, resolves the limits, orders admission across failure domains,
 * and (unless it is a dry run) writes it and schedules its coordinator.
 */
export async function createRollout(deps: RolloutCreationDeps, spec: RolloutSpec, opts: RolloutCreationOptions): Promise<RolloutCreation> {
  ruleProfile(spec.profile); // throws UnknownProfileError, which callers report against `profile`
  const now = opts.now ?? Date.now();
  const id = randomUUID();
  const selector = parseSelector(spec.selector);
  const domainKey = failureDomainKey(spec);

  const hosts: RolloutHostInput[] = [];
  const validations = new Map<string, DeviceValidationCount>();
  const vmValidations = new Map<string, VmValidationCount>();
  const vms = emptyVmCounts();
  const skippedByReason: Record<string, number> = {};
  const planned = new Map<HostRegistrationStep, PlannedHost[]>();
  const strategic = usesStrategies(spec);
  const candidates: StrategyCandidateHost[] = [];
  const plannedOf = new Map<string, PlannedHost>();
  for await (const chunk of deps.inventory.scan(selector)) {
    for (const host of chunk) {
      const domain = labelValue(host.labels, domainKey) ?? '(none)';
      if (!host.topology) {
        hosts.push({ hostId: host.id, domain, skip: { reasons: [], error: 'no topology registered for this host' } });
        skippedByReason.NO_TOPOLOGY = (skippedByReason.NO_TOPOLOGY ?? 0) + 1;
        continue;
      }
      const set = buildPreservationSet(host.topology, undefined, { profile: spec.profile, strictAcs: spec.strictAcs, vms: host.vms });
      for (const d of set.devices) countValidation(validations, d);
      for (const vm of set.vms ?? []) countValidation(vmValidations, vm);
      addVmCounts(vms, set.summary.vms ?? emptyVmCounts());
      if (strategic) {
        candidates.push({ host: { ...host, topology: host.topology }, domain, set });
        plannedOf.set(host.id, { host, topology: host.topology, set });
        continue;
      }
      const skip = liveUpdateSkip(set, hostReasonsOf(host));
      if (skip !== null) {
        skippedByReason[skip.reasons[0]] = (skippedByReason[skip.reasons[0]] ?? 0) + 1;
        hosts.push({ hostId: host.id, domain, skip });
        continue;
      }
      const plan = buildHandoverPlan({
        hostId: host.id,
        rolloutId: id,
        targetKernel: spec.targetKernel,
        topology: host.topology,
        preservationSet: set,
        startBy: spec.window.cutoffAt,
      });
      hosts.push({ hostId: host.id, domain, job: { plan, driver: host.driver } });
      const step = deps.hostRegistration[host.driver.kind];
      if (step) {
        if (!planned.has(step)) planned.set(step, []);
        planned.get(step)!.push({ host, topology: host.topology, set });
      }
    }
  }
  let forecast: StrategyForecast | undefined;
  let capacity = new Map<string, CapacityRecord>();
  if (strategic) {
    const chosen = planStrategies(spec, id, candidates);
    forecast = chosen.forecast;
    capacity = chosen.capacity;
    for (const h of chosen.hosts) {
      hosts.push(h);
      if ('skip' in h) skippedByReason[h.skip.reasons[0] ?? 'NONE'] = (skippedByReason[h.skip.reasons[0] ?? 'NONE'] ?? 0) + 1;
      // Evacuated VMs may go to its skipped hosts that have a capacity: those must exist for a driver that registers hosts.
      const p = plannedOf.get(h.hostId)!;
      if (!('job' in h) && p.host.capacity === undefined) continue;
      const step = deps.hostRegistration[p.host.driver.kind];
      if (step) {
        if (!planned.has(step)) planned.set(step, []);
        planned.get(step)!.push(p);
      }
    }
  }
  if (hosts.length === 0) throw new RolloutInputError('selector', `matches no host in the inventory (${JSON.stringify(spec.selector)})`);

  const eligible = hosts.filter((h) => 'job' in h);
  const limits = resolveLimits(spec, eligible.length);
  // Strategy plans come in admission order already (evacuations last).
  const ordered = strategic ? hosts : [...spreadAcrossDomains(eligible, (h) => h.domain), ...hosts.filter((h) => 'skip' in h)];
  const domains = new Set(eligible.map((h) => h.domain)).size;
  const schedule = predictSchedule(limits, {
    handoverSeconds: opts.expectedHandoverSeconds ?? 60,
    requireApproval: spec.canary.requireApproval,
    cutoffSeconds: (spec.window.cutoffAt - Math.max(now, spec.window.startAt)) / 1000,
    effectiveConcurrency: spec.maxPerFailureDomain ? spec.maxPerFailureDomain.limit * domains : undefined,
  });
  const planSummary: RolloutPlanSummary = {
    hosts: hosts.length,
    eligible: eligible.length,
    skipped: hosts.length - eligible.length,
    skippedByReason,
    vms,
    limits,
    schedule,
    ...(forecast ? { strategies: forecast } : {}),
  };
  const rollout: Rollout = {
    id,
    createdAt: now,
    createdBy: opts.createdBy,
    spec,
    hostCount: hosts.length,
    limits,
    status: 'scheduled',
    batch: 0,
  };
  if (spec.dryRun) return { rollout, plan: planSummary };

  // The drivers' registrations and the rollout's own keys are written side by side; nothing reads
  // either before the coordinator is enqueued. Its hosts are claimed before: from then on no
  // evacuation of any rollout sends VMs to them until their outcome.
  await new FleetCapacity(deps.redis, deps.keys).claim(id, eligible.map((h) => h.hostId));
  await Promise.all([
    ...[...planned].map(([step, stepHosts]) => step(rollout, stepHosts, opts)),
    deps.rollouts.create(rollout, ordered, [...validations.values()], [...vmValidations.values()]),
    new EvacuationCapacity(deps.redis, deps.keys).record(id, capacity),
  ]);
  await deps.enqueueCoordinator(id, Math.max(0, spec.window.startAt - now));
  return { rollout, plan: planSummary };
}

/**
 * Why a host cannot get a plain Live Update (a rollout without strategies), or null when it can: its
 * host-level codes (design 4.1) first, then the first reason of each rejected device.
 */
function liveUpdateSkip(set: PreservationSet, hostReasons: readonly HostReason[]): { reasons: HandoverReason[]; error: string } | null {
  if (hostReasons.length === 0 && set.summary.eligible) return null;
  const rejected = set.devices.filter((d) => !d.preservable);
  const reasons = [...new Set<HandoverReason>([...hostReasons, ...rejected.flatMap((d) => d.reasons.slice(0, 1))])];
  const problems = [...(hostReasons.length > 0 ? [`host: ${hostReasons.join(',')}`] : []), ...rejected.map((d) => `${d.bdf} ${d.reasons.join(',')}`)];
  return { reasons, error: `not eligible: ${problems.join('; ')}` };
}

/** One verdict counted by result and first reason, as luo_fleet_{device,vm}_validations_total count them. */
function countValidation(into: Map<string, DeviceValidationCount>, verdict: { preservable: boolean; reasons: readonly string[] }): void {
  const result = verdict.preservable ? 'preservable' : 'rejected';
  const reason = verdict.reasons[0] ?? 'none';
  const key = `${result}|${reason}`;
  const v = into.get(key) ?? { result, reason, count: 0 };
  v.count++;
  into.set(key, v);
}
