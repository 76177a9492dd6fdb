import IORedis from 'ioredis';
import { journalEntriesOf } from '@luo-fleet/store';
import { type FleetKeys } from '@luo-fleet/redis';
import { HOST_OUTCOMES, type JournalEntry } from '@luo-fleet/handover';

const NOT_IN_FLIGHT = new Set<string>([...HOST_OUTCOMES, 'pending']);

/**
 * Also copies each host's journal as soon as the host has an outcome: the coordinator compacts a
 * finished rollout's journals down to their outcome entry at once, and the checks need the steps.
 *
 * Counts hosts in flight (a phase, or admitted and queued) from the rollout's host-state hash every
 * 50 ms. Its client fails fast instead of queueing while Redis is down: those samples are skipped,
 * not taken late.
 */
export class InFlightSampler {
  max = 0;
  samples = 0;
  skipped = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly redis: IORedis;
  /** Journals copied when their host reached an outcome. */
  readonly journals = new Map<string, JournalEntry[]>();

  constructor(
    url: string,
    private readonly keys: FleetKeys,
    private readonly rolloutId: string,
    private readonly redisDown: () => boolean,
  ) {
    this.redis = new IORedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), 50);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    if (this.redisDown()) {
      this.skipped++;
      return;
    }
    this.busy = true;
    try {
      const states = await this.redis.hgetall(this.keys.hostStates(this.rolloutId));
      const n = Object.values(states).filter((s) => !NOT_IN_FLIGHT.has(s)).length;
      this.max = Math.max(this.max, n);
      this.samples++;
      const done = Object.entries(states).filter(([host, s]) => HOST_OUTCOMES.includes(s as never) && !this.journals.has(host)).map(([host]) => host);
      for (let i = 0; i < done.length; i += 500) {
        const chunk = done.slice(i, i + 500);
        const p = this.redis.pipeline();
        for (const host of chunk) p.lrange(this.keys.journal(this.rolloutId, host), 0, -1);
        const replies = (await p.exec()) ?? [];
        chunk.forEach((host, j) => {
          const [err, raw] = replies[j] as [Error | null, string[]];
          if (!err) this.journals.set(host, journalEntriesOf(raw));
        });
      }
    } catch {
      this.skipped++;
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.redis.disconnect();
  }
}
