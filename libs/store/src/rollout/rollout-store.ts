import { fieldsOf, type RedisClient } from '@luo-fleet/redis';
import { DEFAULT_STRATEGY, handoverIdOf, type HandoverReason, type HostStrategy, type OutcomeEntry, type OutcomeSummary, VM_DISRUPTION_KINDS, type VmDisruptionKind } from '@luo-fleet/handover';
import { VM_REASONS, type VmReason } from '@luo-fleet/preservation';
import { validationStat, vmDisruptionStat, vmValidationStat } from '@luo-fleet/telemetry';
import type { Rollout, RolloutAction, RolloutStatus } from '@luo-fleet/rollout';
import type { HandoverOrder } from '@luo-fleet/handover';
import type { FleetKeys } from '@luo-fleet/redis';
import { RedisHandoverJournal } from '../journal/redis-handover-journal';
import { JournalGroupCommit } from '../journal/journal-group-commit';
import { ADMIT, ADVANCE, CONTROL } from './rollout-scripts';
import { outcomeResultJson, recordOutcome } from './outcome-record';
import { hostStrategyKeys, MOVE_HOSTS_TO_STATE } from './host-state-move';
import { LuaScript } from '@luo-fleet/redis';
import { FleetCapacity } from '../capacity/fleet-capacity';

/** One host of a new rollout: either a handover to run, or a skip with the plan's reasons. */
export type RolloutHostInput =
  | { hostId: string; domain: string; job: HandoverOrder }
  | { hostId: string; domain: string; skip: { reasons: HandoverReason[]; error: string } };

export interface DeviceValidationCount {
  result: 'preservable' | 'rejected';
  reason: string;
  count: number;
}

/** VMs judged at plan time, by verdict and first reason (design 4.5 code or `none`). */
export type VmValidationCount = DeviceValidationCount;

/** The VMs of a rollout's hosts as planned: by verdict, and rejected ones by first reason (design 4.5). */
export interface RolloutVmCounts {
  total: number;
  preservable: number;
  rejected: number;
  byFirstReason: Partial<Record<VmReason, number>>;
}

/** A rollout as the API shows it: the stored record plus live admission figures and host counts by state. */
export interface RolloutView extends Rollout {
  inflight: number;
  failures: number;
  finished: number;
  hostsByState: Record<string, number>;
  /** Only for a rollout that allows strategies: hosts by the strategy the plan gave them, then by state. */
  hostsByStrategy?: Partial<Record<HostStrategy, Record<string, number>>>;
  vms: RolloutVmCounts;
  /** The VMs of finished hosts by what the update did to them (design 4.4 kinds, `lost` must stay 0). */
  vmDisruptions: Record<VmDisruptionKind, number>;
}

// The plan-stage VM counts are the metric's own fields (luo_fleet_vm_validations_total), read back.
const [PLAN_VMS_PRESERVABLE] = vmValidationStat('plan', 'preservable', 'none', 0).map(([f]) => f);
const PLAN_VMS_REJECTED = VM_REASONS.map((r) => vmValidationStat('plan', 'rejected', r, 0)[0][0]);
// So are the VM disruption counts (luo_fleet_vm_disruptions_total), written with each outcome.
const VM_DISRUPTION_FIELDS = VM_DISRUPTION_KINDS.map((kind) => vmDisruptionStat(kind, 0)[0][0]);

/** A host of a rollout: its state, and once it has one, its outcome's summary. */
export type HostResult = { hostId: string; state: string } & Partial<OutcomeSummary>;

const CHUNK = 1000;

/**
 * A rollout's state in Redis: written once at creation, then moved only by the Lua scripts of
 * rollout-scripts.ts, so that any number of coordinators and workers can act on it at once.
 */
export class RolloutStore {
  /** Outcomes of hosts that never start (skipped, cancelled) are written many per script run. */
  private readonly groupCommit: JournalGroupCommit;
  /** Hosts that end without running give back their claim (FleetCapacity): they may take evacuated VMs. */
  private readonly fleet: FleetCapacity;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {
    this.groupCommit = new JournalGroupCommit(redis, keys);
    this.fleet = new FleetCapacity(redis, keys);
  }

  /**
   * Writes a new rollout. The admission hash is written last and the rollout becomes active only
   * then: a creation that dies half-way leaves nothing that could run.
   */
  async create(rollout: Rollout, hosts: RolloutHostInput[], planValidations: DeviceValidationCount[], planVmValidations: VmValidationCount[] = []): Promise<void> {
    const k = this.keys;
    const id = rollout.id;
    await this.redis.set(k.rollout(id), JSON.stringify(rollout));
    const toRun = hosts.filter((h): h is Extract<RolloutHostInput, { job: HandoverOrder }> => 'job' in h);
    // Before any host's state moves: each move counts its host under its strategy.
    if (rollout.spec.strategies !== undefined) {
      for (let i = 0; i < hosts.length; i += CHUNK) {
        const chunk = hosts.slice(i, i + CHUNK);
        await this.redis.hset(k.hostStrategies(id), Object.fromEntries(chunk.map((h) => [h.hostId, 'skip' in h ? 'skip' : (h.job.plan.strategy ?? DEFAULT_STRATEGY)])));
      }
    }
    for (let i = 0; i < toRun.length; i += CHUNK) {
      const chunk = toRun.slice(i, i + CHUNK);
      const p = this.redis.pipeline();
      p.rpush(k.pending(id), ...chunk.map((h) => h.hostId));
      p.hset(k.plans(id), Object.fromEntries(chunk.map((h) => [h.hostId, JSON.stringify(h.job)])));
      p.hset(k.hostDomains(id), Object.fromEntries(chunk.map((h) => [h.hostId, h.domain])));
      await Promise.all([p.exec(), this.moveHosts(id, 'pending', chunk.map((h) => h.hostId))]);
    }
    const stats = this.redis.pipeline();
    for (const v of planValidations) for (const [field, by] of validationStat('plan', v.result, v.reason, v.count)) stats.hincrby(k.stats(id), field, by);
    for (const v of planVmValidations) for (const [field, by] of vmValidationStat('plan', v.result, v.reason, v.count)) stats.hincrby(k.stats(id), field, by);
    await stats.exec();
    await this.redis.sadd(k.rolloutIndex(), id);
    const now = Date.now();
    const skipped = hosts.filter((h): h is Extract<RolloutHostInput, { skip: unknown }> => 'skip' in h);
    // A thousand journals at a time, not one round trip each: most of a fleet may be skipped.
    for (let i = 0; i < skipped.length; i += CHUNK) {
      await Promise.all(
        skipped.slice(i, i + CHUNK).map((h) => {
          const outcome: OutcomeEntry = { type: 'outcome', at: now, outcome: 'skipped', reasons: h.skip.reasons, error: h.skip.error };
          return new RedisHandoverJournal(this.redis, k, id, h.hostId, { empty: true, groupCommit: this.groupCommit }).append(handoverIdOf(id, h.hostId), outcome);
        }),
      );
    }
    const skipResults = this.redis.pipeline();
    for (const h of skipped) {
      skipResults.hset(k.results(id), h.hostId, outcomeResultJson({ outcome: 'skipped', reasons: h.skip.reasons, error: h.skip.error }));
      skipResults.sadd(k.done(id), h.hostId);
    }
    await skipResults.exec();
    await this.redis.hset(k.admission(id), {
      status: rollout.status,
      startAt: rollout.spec.window.startAt,
      cutoffAt: rollout.spec.window.cutoffAt,
      maxConcurrent: rollout.limits.maxConcurrent,
      maxFailures: rollout.limits.maxFailures,
      domainLimit: rollout.spec.maxPerFailureDomain?.limit ?? 0,
      batches: JSON.stringify(rollout.limits.batches),
      requireApproval: rollout.spec.canary.requireApproval ? '1' : '0',
      batch: 0,
      batchAdmitted: 0,
      inflight: 0,
      failures: 0,
      finished: skipped.length,
    });
    await this.redis.sadd(k.activeRollouts(), id);
    await this.redis.zadd(k.rolloutList(), rollout.createdAt, id);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.admission(id))) === 1;
  }

  async get(id: string): Promise<RolloutView | null> {
    const k = this.keys;
    const viewKeys = [k.rollout(id), k.admission(id), k.stateCounts(id), k.strategyStateCounts(id)];
    const [[raw, admFlat, countsFlat, byStrategyFlat], vmFields] = await Promise.all([
      ROLLOUT_VIEW.run(this.redis, viewKeys, []) as Promise<[string | false | null, string[], string[], string[]]>,
      this.redis.hmget(this.keys.stats(id), ...VM_DISRUPTION_FIELDS, PLAN_VMS_PRESERVABLE, ...PLAN_VMS_REJECTED),
    ]);
    const adm = Object.fromEntries(fieldsOf(admFlat));
    const counts = fieldsOf(countsFlat);
    if (!raw || !adm.status) return null;
    const rollout = JSON.parse(raw) as Rollout;
    const hostsByState: Record<string, number> = {};
    for (const [state, n] of counts) if (Number(n) > 0) hostsByState[state] = Number(n);
    return {
      ...rollout,
      status: adm.status as RolloutStatus,
      statusReason: adm.statusReason,
      batch: Number(adm.batch),
      finishedAt: adm.finishedAt === undefined ? undefined : Number(adm.finishedAt),
      inflight: Number(adm.inflight),
      failures: Number(adm.failures),
      finished: Number(adm.finished),
      hostsByState,
      ...(byStrategyFlat.length > 0 ? { hostsByStrategy: hostsByStrategyOf(fieldsOf(byStrategyFlat)) } : {}),
      vms: vmCountsOf(vmFields.slice(VM_DISRUPTION_FIELDS.length)),
      vmDisruptions: Object.fromEntries(VM_DISRUPTION_KINDS.map((kind, i) => [kind, Number(vmFields[i] ?? 0)])) as Record<VmDisruptionKind, number>,
    };
  }

  /** Newest first. */
  async list(limit = 50): Promise<RolloutView[]> {
    const ids = await this.redis.zrevrange(this.keys.rolloutList(), 0, limit - 1);
    const views = await Promise.all(ids.map((id) => this.get(id)));
    return views.filter((v): v is RolloutView => v !== null);
  }

  async activeIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.activeRollouts());
  }

  /**
   * An unfinished rollout that has yet to update `hostId` (it holds the host's plan until the
   * host's outcome is counted), or null. One HEXISTS per active rollout, each on its own slot.
   */
  async rolloutUpdating(hostId: string): Promise<string | null> {
    const ids = (await this.activeIds()).sort();
    const held = await Promise.all(ids.map((id) => this.redis.hexists(this.keys.plans(id), hostId)));
    return ids.find((_, i) => held[i] === 1) ?? null;
  }

  async status(id: string): Promise<RolloutStatus | null> {
    return (await this.redis.hget(this.keys.admission(id), 'status')) as RolloutStatus | null;
  }

  async control(id: string, action: RolloutAction): Promise<{ applied: boolean; status: string }> {
    const [applied, status] = (await CONTROL.run(this.redis, [this.keys.admission(id)], [action])) as [number, string];
    return { applied: applied === 1, status };
  }

  /** Atomically admits what the limits allow now; returns the jobs to enqueue. */
  async admit(id: string, now = Date.now()): Promise<HandoverOrder[]> {
    const k = this.keys;
    const admitted = (await ADMIT.run(
      this.redis,
      [k.admission(id), k.pending(id), k.admitted(id), k.domainInflight(id), k.hostDomains(id), k.hostStates(id), k.stateCounts(id), k.plans(id), ...hostStrategyKeys(k, id)],
      [now, 2_000, k.hostStateSetPrefix(id)],
    )) as string[];
    // Pairs of host id and plan; a host without a plan is left to reconciliation, as jobsOf does.
    const jobs: HandoverOrder[] = [];
    for (let i = 0; i + 1 < admitted.length; i += 2) if (admitted[i + 1] !== '') jobs.push(JSON.parse(admitted[i + 1]) as HandoverOrder);
    return jobs;
  }

  async jobsOf(id: string, hosts: string[]): Promise<HandoverOrder[]> {
    if (hosts.length === 0) return [];
    const raw = await this.redis.hmget(this.keys.plans(id), ...hosts);
    return raw.flatMap((r) => (r === null ? [] : [JSON.parse(r) as HandoverOrder]));
  }

  /** Counts a host's outcome once (true the first time); frees its in-flight slot; may halt the rollout. */
  async recordOutcome(id: string, hostId: string, outcome: OutcomeSummary): Promise<boolean> {
    return (await recordOutcome(this.redis, this.keys, id, hostId, outcome)) === 1;
  }

  async advance(id: string, now = Date.now()): Promise<{ status: RolloutStatus; finished: boolean }> {
    const [status, , finished] = (await ADVANCE.run(this.redis, [this.keys.admission(id), this.keys.pending(id)], [now])) as [string, number, number];
    // Idempotent, so a coordinator that died right after finishing still removes it on its next pass.
    if (finished === 1) await this.redis.srem(this.keys.activeRollouts(), id);
    return { status: status as RolloutStatus, finished: finished === 1 };
  }

  /** Ends up to `max` hosts that will never start (halt, abort, cutoff) as `cancelled`. */
  async cancelPending(id: string, reason: string, max = 500): Promise<number> {
    const hosts = (await this.redis.lpop(this.keys.pending(id), max)) ?? [];
    const at = Date.now();
    await Promise.all(
      hosts.map((hostId) => {
        const outcome: OutcomeEntry = { type: 'outcome', at, outcome: 'cancelled', reasons: [], error: reason };
        // A pending host never started: its journal is empty.
        const journal = new RedisHandoverJournal(this.redis, this.keys, id, hostId, { countOutcomes: true, empty: true, groupCommit: this.groupCommit });
        return journal.append(handoverIdOf(id, hostId), outcome);
      }),
    );
    await this.fleet.unclaim(id, hosts);
    return hosts.length;
  }

  /**
   * Moves admitted hosts that have not started between `waiting_capacity` (an evacuation whose VMs
   * have nowhere to go yet, design 4.6) and `queued`.
   */
  async markUnstarted(id: string, state: 'waiting_capacity' | 'queued', hostIds: readonly string[]): Promise<void> {
    if (hostIds.length === 0) return;
    await this.moveHosts(id, state, hostIds);
  }

  private async moveHosts(id: string, state: string, hostIds: readonly string[]): Promise<void> {
    const k = this.keys;
    await MOVE_HOSTS_TO_STATE.run(this.redis, [k.hostStates(id), k.stateCounts(id), ...hostStrategyKeys(k, id)], [k.hostStateSetPrefix(id), state, ...hostIds]);
  }

  async waiting(id: string): Promise<string[]> {
    return this.redis.smembers(this.keys.hostStateSet(id, 'waiting_capacity'));
  }

  /** Ends hosts that never started (admitted, waiting) with `outcome`; nothing ran on them, so their journals are empty. */
  async endUnstarted(id: string, hostIds: readonly string[], outcome: Pick<OutcomeEntry, 'outcome' | 'reasons' | 'error' | 'strategy'>): Promise<void> {
    const at = Date.now();
    await Promise.all(
      hostIds.map((hostId) => {
        const journal = new RedisHandoverJournal(this.redis, this.keys, id, hostId, { countOutcomes: true, empty: true, groupCommit: this.groupCommit });
        return journal.append(handoverIdOf(id, hostId), { type: 'outcome', at, ...outcome });
      }),
    );
    await this.fleet.unclaim(id, hostIds);
  }

  /** Hosts admitted before `before` that still have no outcome (for the coordinator's reconciliation). */
  async admittedBefore(id: string, before: number, max = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.admitted(id), 0, before, 'LIMIT', 0, max);
  }

  async pendingCount(id: string): Promise<number> {
    return this.redis.llen(this.keys.pending(id));
  }

  /** Hosts of the rollout, optionally only those in one state, a page at a time (SSCAN cursor). */
  async hosts(id: string, opts: { state?: string; cursor?: string; limit?: number }): Promise<{ hosts: HostResult[]; nextCursor: string | null }> {
    const limit = opts.limit ?? 100;
    const k = this.keys;
    let ids: string[];
    let next: string;
    if (opts.state) {
      [next, ids] = await this.redis.sscan(k.hostStateSet(id, opts.state), opts.cursor ?? '0', 'COUNT', limit);
    } else {
      const [cursor, flat] = await this.redis.hscan(k.hostStates(id), opts.cursor ?? '0', 'COUNT', limit);
      next = cursor;
      ids = flat.filter((_, i) => i % 2 === 0);
    }
    if (ids.length === 0) return { hosts: [], nextCursor: next === '0' ? null : next };
    const [states, results] = await Promise.all([this.redis.hmget(k.hostStates(id), ...ids), this.redis.hmget(k.results(id), ...ids)]);
    const hosts = ids.map((hostId, i) => ({
      hostId,
      state: states[i] ?? 'unknown',
      ...(results[i] ? (JSON.parse(results[i]!) as Omit<HostResult, 'hostId' | 'state'>) : {}),
    }));
    return { hosts, nextCursor: next === '0' ? null : next };
  }
}

/**
 * A rollout's record, admission hash and state counts at one moment, and for a rollout that allows
 * strategies its counts by strategy and state (kept by moveHostStates). A script rather than MULTI:
 * the status is polled by every watching client, and a script call costs the planner less than
 * building ioredis's transaction object.
 * KEYS: 1 rollout, 2 admission, 3 state counts, 4 strategy and state counts.
 */
const ROLLOUT_VIEW = new LuaScript(`
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
`);

function hostsByStrategyOf(counts: Iterable<[string, string]>): NonNullable<RolloutView['hostsByStrategy']> {
  const by: NonNullable<RolloutView['hostsByStrategy']> = {};
  for (const [field, n] of counts) {
    const at = field.indexOf(':');
    if (Number(n) > 0) (by[field.slice(0, at) as HostStrategy] ??= {})[field.slice(at + 1)] = Number(n);
  }
  return by;
}

function vmCountsOf([preservable, ...rejected]: Array<string | null>): RolloutVmCounts {
  const counts: RolloutVmCounts = { total: 0, preservable: Number(preservable ?? 0), rejected: 0, byFirstReason: {} };
  rejected.forEach((n, i) => {
    if (n === null || Number(n) === 0) return;
    counts.byFirstReason[VM_REASONS[i]] = Number(n);
    counts.rejected += Number(n);
  });
  counts.total = counts.preservable + counts.rejected;
  return counts;
}
