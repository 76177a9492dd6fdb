import { execGroupedBySlot, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { addFleetStats, emptyFleetStats, type FleetStats } from '@luo-fleet/telemetry';
import { isInFlight } from './host-states';

type NumericHash = Map<string, number>;

/**
 * Sums the per-rollout stats hashes of every rollout in `FleetKeys.rolloutIndex()`.
 *
 * Why read counters from Redis instead of counting in this process: handovers run in any number of
 * worker processes, and each count is written by the same Lua script that journals the fact it
 * counts. Summing those hashes at scrape time gives fleet-wide numbers that survive a restart of
 * this app (or of any worker) and cannot be counted twice, which in-process counters fed by events
 * could not promise.
 *
 * A finished rollout's hash no longer changes, so its fields are read once and kept in a running
 * sum; only active rollouts are read on every scrape. "Finished" means out of the active set and
 * with no host still in flight (a halted rollout lets in-flight handovers end and count).
 */
export class FleetStatsReader {
  private readonly settled = new Map<string, NumericHash>();
  private settledSum: NumericHash = new Map();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  async read(active: ReadonlySet<string>): Promise<FleetStats> {
    const indexed = new Set(await this.redis.smembers(this.keys.rolloutIndex()));
    this.forgetUnsettled(indexed, active);

    const toRead = [...indexed].filter((id) => !this.settled.has(id));
    // One pipeline (per slot on a cluster: each rollout has its own hash tag).
    const replies = await execGroupedBySlot(this.redis, toRead.map((id) => this.keys.stats(id)), (pipeline, i) => {
      pipeline.hgetall(this.keys.stats(toRead[i]));
      pipeline.hgetall(this.keys.stateCounts(toRead[i]));
    });
    const live: Record<string, string>[] = [];
    toRead.forEach((id, i) => {
      const stats = reply(replies, 2 * i);
      const states = reply(replies, 2 * i + 1);
      if (!active.has(id) && !Object.entries(states).some(([s, n]) => isInFlight(s) && Number(n) > 0)) {
        this.settle(id, stats);
      } else {
        live.push(stats);
      }
    });

    const total = addFleetStats(emptyFleetStats(), Object.fromEntries([...this.settledSum].map(([f, n]) => [f, String(n)])));
    for (const hash of live) addFleetStats(total, hash);
    return total;
  }

  /** Number of rollouts whose sums are cached (for tests and the benchmark). */
  get settledCount(): number {
    return this.settled.size;
  }

  private settle(id: string, stats: Record<string, string>): void {
    const fields: NumericHash = new Map();
    for (const [f, raw] of Object.entries(stats)) {
      const n = Number(raw);
      if (!Number.isFinite(n)) continue;
      fields.set(f, n);
      this.settledSum.set(f, (this.settledSum.get(f) ?? 0) + n);
    }
    this.settled.set(id, fields);
  }

  /** A rollout deleted from the index, or made active again, leaves the cache; the sum is rebuilt then (rare). */
  private forgetUnsettled(indexed: ReadonlySet<string>, active: ReadonlySet<string>): void {
    const stale = [...this.settled.keys()].filter((id) => !indexed.has(id) || active.has(id));
    if (stale.length === 0) return;
    for (const id of stale) this.settled.delete(id);
    this.settledSum = new Map();
    for (const fields of this.settled.values()) {
      for (const [f, n] of fields) this.settledSum.set(f, (this.settledSum.get(f) ?? 0) + n);
    }
  }
}

function reply(replies: [Error | null, unknown][] | null, i: number): Record<string, string> {
  const entry = replies?.[i];
  if (!entry) return {};
  if (entry[0]) throw entry[0];
  return (entry[1] ?? {}) as Record<string, string>;
}
