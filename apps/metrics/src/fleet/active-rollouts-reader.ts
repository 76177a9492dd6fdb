import { execGroupedBySlot, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { lastEntryOf } from '@luo-fleet/store';
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
  private readonly hostLists = new Map<string, { readAt: number; hosts: HostInStep[] }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    private readonly hostListTtlMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {}

  async read(active: readonly string[]): Promise<ActiveRolloutsView> {
    // One pipeline (per slot on a cluster: each rollout has its own hash tag).
    const replies = await execGroupedBySlot(this.redis, active.map((id) => this.keys.rollout(id)), (pipeline, i) => {
      pipeline.get(this.keys.rollout(active[i]));
      pipeline.hgetall(this.keys.stateCounts(active[i]));
    });
    const rollouts = active.map((id, i) => {
      const [err1, json] = replies[2 * i] ?? [null, null];
      const [err2, counts] = replies[2 * i + 1] ?? [null, {}];
      if (err1) throw err1;
      if (err2) throw err2;
      return view(id, json as string | null, counts as Record<string, string>);
    });
    this.forgetInactive(active);
    return { rollouts, oldestStepAge: await this.oldestStepAge(rollouts) };
  }

  /**
   * For the stuck-host alert: per step, the age of the last journal entry of the longest-waiting
   * host in it. Only rollouts with hosts in a step are looked at, and only those hosts' last entries
   * are read each scrape (bounded by max_concurrent, not fleet size). Finding those hosts takes one
   * HGETALL of the rollout's host states (O(hosts in the rollout)), so that list is refreshed every
   * `hostListTtlMs` only: a host that entered a step since then is missing for that long, which a
   * stuck-host alert measured in minutes does not notice; a host that moved on or finished is seen
   * in its journal at once. A sorted set of step start times kept by the journal script would make
   * the refresh O(log n).
   */
  private async oldestStepAge(rollouts: ActiveRolloutView[]): Promise<Map<string, number>> {
    const busy = rollouts.filter((r) => STEP_STATES.some((s) => (r.hosts.get(s) ?? 0) > 0));
    const inStep = (await Promise.all(busy.map((r) => this.hostsInStep(r.id)))).flat();
    const ages = new Map<string, number>();
    if (inStep.length === 0) return ages;
    const journals = inStep.map((h) => this.keys.journal(h.rolloutId, h.hostId));
    const last = await execGroupedBySlot(this.redis, journals, (pipeline, i) => pipeline.lindex(journals[i], -1));
    const now = this.now();
    inStep.forEach((h, i) => {
      const entry = parseEntry(last[i]?.[1]);
      if (!entry || entry.type === 'outcome') return;
      const step = entry.step ?? h.step;
      ages.set(step, Math.max(ages.get(step) ?? 0, Math.max(0, (now - entry.at) / 1000)));
    });
    return ages;
  }

  private async hostsInStep(rolloutId: string): Promise<HostInStep[]> {
    const cached = this.hostLists.get(rolloutId);
    if (cached && this.now() - cached.readAt < this.hostListTtlMs) return cached.hosts;
    const states = await this.redis.hgetall(this.keys.hostStates(rolloutId));
    const hosts = Object.entries(states)
      .filter(([, step]) => STEP_STATES.includes(step))
      .map(([hostId, step]) => ({ rolloutId, hostId, step }));
    this.hostLists.set(rolloutId, { readAt: this.now(), hosts });
    return hosts;
  }

  /** Drops host lists of rollouts that are no longer active. */
  private forgetInactive(active: readonly string[]): void {
    for (const id of this.hostLists.keys()) if (!active.includes(id)) this.hostLists.delete(id);
  }
}

interface HostInStep {
  rolloutId: string;
  hostId: string;
  step: string;
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

function parseEntry(raw: unknown): { type: string; at: number; step?: string } | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    // The list's last element is the last write; its last line the host's latest entry.
    const e = JSON.parse(lastEntryOf(raw)) as { type?: unknown; at?: unknown; step?: unknown };
    if (typeof e.at !== 'number' || typeof e.type !== 'string') return undefined;
    return { type: e.type, at: e.at, step: typeof e.step === 'string' && STEP_STATES.includes(e.step) ? e.step : undefined };
  } catch {
    return undefined;
  }
}
