import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@luo-fleet/redis';
import { buildPreservationSet, ruleProfile, type PreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan } from '@luo-fleet/handover';
import { createSimulatedHost, drawFaultPlan, parseFleetFaultProfile, type FleetFaultProfile, type SimulatedHostStore } from '@luo-fleet/simulated-host';
import {
  predictSchedule,
  resolveLimits,
  spreadAcrossDomains,
  type PredictedSchedule,
  type ResolvedLimits,
  type Rollout,
  type RolloutSpec,
} from '@luo-fleet/rollout';
import type { InventoryHost } from '@luo-fleet/store';
import { labelValue, parseSelector } from '@luo-fleet/store';
import type { InventoryStore } from '@luo-fleet/store';
import type { FleetKeys } from '@luo-fleet/redis';
import type { DeviceValidationCount, RolloutHostInput, RolloutStore } from '@luo-fleet/store';

const SIMULATED_HOSTS_AT_ONCE = 1_000;

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

export interface RolloutCreationDeps {
  redis: RedisClient;
  keys: FleetKeys;
  inventory: InventoryStore;
  rollouts: RolloutStore;
  simulatedHosts: SimulatedHostStore;
  /** Enqueues the rollout's coordinator job, delayed until its window opens. */
  enqueueCoordinator(rolloutId: string, delayMs: number): Promise<void>;
}

export interface RolloutPlanSummary {
  hosts: number;
  eligible: number;
  skipped: number;
  /** Skipped hosts by the first reason of their first rejected device. */
  skippedByReason: Record<string, number>;
  limits: ResolvedLimits;
  schedule: PredictedSchedule;
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
  /** Kernel a simulated host runs before its first update (its inventory label `kernel` wins). */
  simulatedKernel?: string;
}

/**
 * Turns a maintenance-window request into a stored rollout: selects the hosts, plans each one
 * under the rollout's rule profile, resolves the limits, orders admission across failure domains,
 * and (unless it is a dry run) writes it and schedules its coordinator.
 */
export async function createRollout(deps: RolloutCreationDeps, spec: RolloutSpec, opts: RolloutCreationOptions): Promise<RolloutCreation> {
  ruleProfile(spec.profile); // throws UnknownProfileError, which callers report against `profile`
  const faults = spec.simulatedFaults ? parseFleetFaultProfile(spec.simulatedFaults, 'simulatedFaults') : undefined;
  const now = opts.now ?? Date.now();
  const id = randomUUID();
  const selector = parseSelector(spec.selector);
  const domainKey = spec.maxPerFailureDomain?.key ?? 'rack';

  const hosts: RolloutHostInput[] = [];
  const validations = new Map<string, DeviceValidationCount>();
  const skippedByReason: Record<string, number> = {};
  const simulated: { host: InventoryHost; set: PreservationSet }[] = [];
  for await (const chunk of deps.inventory.scan(selector)) {
    for (const host of chunk) {
      const domain = labelValue(host.labels, domainKey) ?? '(none)';
      if (!host.topology) {
        hosts.push({ hostId: host.id, domain, skip: { reasons: [], error: 'no topology registered for this host' } });
        skippedByReason.NO_TOPOLOGY = (skippedByReason.NO_TOPOLOGY ?? 0) + 1;
        continue;
      }
      const set = buildPreservationSet(host.topology, undefined, { profile: spec.profile, strictAcs: spec.strictAcs });
      for (const d of set.devices) {
        const result = d.preservable ? 'preservable' : 'rejected';
        const reason = d.reasons[0] ?? 'none';
        const key = `${result}|${reason}`;
        const v = validations.get(key) ?? { result, reason, count: 0 };
        v.count++;
        validations.set(key, v);
      }
      if (!set.summary.eligible) {
        const reasons = [...new Set(set.devices.flatMap((d) => d.reasons.slice(0, 1)))];
        skippedByReason[reasons[0]] = (skippedByReason[reasons[0]] ?? 0) + 1;
        hosts.push({
          hostId: host.id,
          domain,
          skip: {
            reasons,
            error: `not eligible: ${set.devices.filter((d) => !d.preservable).map((d) => `${d.bdf} ${d.reasons.join(',')}`).join('; ')}`,
          },
        });
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
      if (host.driver.kind === 'simulated') simulated.push({ host, set });
    }
  }
  if (hosts.length === 0) throw new RolloutInputError('selector', `matches no host in the inventory (${JSON.stringify(spec.selector)})`);

  const eligible = hosts.filter((h) => 'job' in h);
  const limits = resolveLimits(spec, eligible.length);
  const ordered = [...spreadAcrossDomains(eligible, (h) => h.domain), ...hosts.filter((h) => 'skip' in h)];
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
    limits,
    schedule,
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

  // The simulated hosts and the rollout's own keys are written side by side; nothing reads either
  // before the coordinator is enqueued.
  await Promise.all([registerSimulatedHosts(deps, simulated, faults, opts), deps.rollouts.create(rollout, ordered, [...validations.values()])]);
  await deps.enqueueCoordinator(id, Math.max(0, spec.window.startAt - now));
  return { rollout, plan: planSummary };
}

/** Registered SIMULATED_HOSTS_AT_ONCE at a time: their round trips overlap instead of queueing behind each other. */
async function registerSimulatedHosts(
  deps: RolloutCreationDeps,
  simulated: { host: InventoryHost; set: PreservationSet }[],
  faults: FleetFaultProfile | undefined,
  opts: RolloutCreationOptions,
): Promise<void> {
  for (let i = 0; i < simulated.length; i += SIMULATED_HOSTS_AT_ONCE) {
    await Promise.all(
      simulated.slice(i, i + SIMULATED_HOSTS_AT_ONCE).map(({ host, set }) => {
        const preservable = set.devices.filter((d) => d.preservable).map((d) => d.bdf);
        return createSimulatedHost(deps.simulatedHosts, {
          hostId: host.id,
          seed: opts.seed ?? 1,
          topology: host.topology!,
          kernelRelease: labelValue(host.labels, 'kernel') ?? opts.simulatedKernel ?? '6.12.0-lts',
          faults: faults ? drawFaultPlan(faults, opts.seed ?? 1, host.id, host.topology!, preservable) : undefined,
        });
      }),
    );
  }
}
