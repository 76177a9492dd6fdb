import type IORedis from 'ioredis';
import type { FleetKeys } from '@luo-fleet/queue';
import type { Rollout } from '@luo-fleet/rollout';
import { FAILURE_OUTCOMES, isInFlight, STEP_STATES } from './host-states';

export interface ActiveRolloutView {
  id: string;
  /** Absent when the rollout record is missing or unreadable. */
  maxConcurrent?: number;
  maxFailures?: number;
  /** state -> hosts in it (from the rollout's state counts). */
  hosts: Map<string, number>;
  failures: number;
  inFlight: number;
}

export interface ActiveRolloutsView {
  rollouts: ActiveRolloutView[];
  /** step -> seconds since the last journal entry of the longest-waiting host in that step. */
  oldestStepAge: Map<string, number>;
}

/**
 * What dashboards show per active rollout: limits from the rollout record, host counts from its
 * state-count hash (maintained by the journal script, so it costs one HGETALL per rollout).
 */
export class ActiveRolloutsReader {
  constructor(
    private readonly redis: IORedis,
    private readonly keys: FleetKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async read(active: readonly string[]): Promise<ActiveRolloutsView> {
    const pipeline = this.redis.pipeline();
    for (const id of active) {
      pipeline.get(this.keys.rollout(id));
      pipeline.hgetall(this.keys.stateCounts(id));
    }
    const replies = active.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const rollouts = active.map((id, i) => {
      const [err1, json] = replies[2 * i] ?? [null, null];
      const [err2, counts] = replies[2 * i + 1] ?? [null, {}];
      if (err1) throw err1;
      if (err2) throw err2;
      return view(id, json as string | null, counts as Record<string, string>);
    });
    return { rollouts, oldestStepAge: await this.oldestStepAge(rollouts) };
  }

  /**
   * For the stuck-host alert. Only rollouts with hosts in a step are looked at, and only those
   * hosts' last journal entries are read: bounded by max_concurrent, not by fleet size. The host
   * list itself is one HGETALL of the rollout's host states (O(hosts in the rollout)); a sorted set
   * of step start times kept by the journal script would make this O(log n).
   */
  private async oldestStepAge(rollouts: ActiveRolloutView[]): Promise<Map<string, number>> {
    const busy = rollouts.filter((r) => STEP_STATES.some((s) => (r.hosts.get(s) ?? 0) > 0));
    const ages = new Map<string, number>();
    if (busy.length === 0) return ages;
    const states = await Promise.all(busy.map((r) => this.redis.hgetall(this.keys.hostStates(r.id))));
    const inStep: { rolloutId: string; hostId: string; step: string }[] = [];
    busy.forEach((r, i) => {
      for (const [hostId, step] of Object.entries(states[i])) {
        if (STEP_STATES.includes(step)) inStep.push({ rolloutId: r.id, hostId, step });
      }
    });
    const pipeline = this.redis.pipeline();
    for (const h of inStep) pipeline.lindex(this.keys.journal(h.rolloutId, h.hostId), -1);
    const last = inStep.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const now = this.now();
    inStep.forEach((h, i) => {
      const at = entryTime(last[i]?.[1]);
      if (at === undefined) return;
      const age = Math.max(0, (now - at) / 1000);
      ages.set(h.step, Math.max(ages.get(h.step) ?? 0, age));
    });
    return ages;
  }
}

function view(id: string, json: string | null, counts: Record<string, string>): ActiveRolloutView {
  const hosts = new Map<string, number>();
  for (const [state, raw] of Object.entries(counts)) {
    const n = Number(raw);
    if (Number.isFinite(n)) hosts.set(state, n);
  }
  const sumOf = (pred: (s: string) => boolean) => [...hosts].filter(([s]) => pred(s)).reduce((acc, [, n]) => acc + n, 0);
  const limits = parseLimits(json);
  return {
    id,
    ...limits,
    hosts,
    failures: sumOf((s) => FAILURE_OUTCOMES.includes(s)),
    inFlight: sumOf(isInFlight),
  };
}

function parseLimits(json: string | null): { maxConcurrent?: number; maxFailures?: number } {
  if (!json) return {};
  try {
    const r = JSON.parse(json) as Partial<Rollout>;
    return { maxConcurrent: r.limits?.maxConcurrent, maxFailures: r.limits?.maxFailures };
  } catch {
    return {};
  }
}

function entryTime(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const at = (JSON.parse(raw) as { at?: unknown }).at;
    return typeof at === 'number' ? at : undefined;
  } catch {
    return undefined;
  }
}
