import IORedis from 'ioredis';
import type { FleetKeys } from '@luo-fleet/queue';
import { HOST_OUTCOMES } from '@luo-fleet/handover';

const NOT_IN_FLIGHT = new Set<string>([...HOST_OUTCOMES, 'pending']);

/**
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
      const states = await this.redis.hvals(this.keys.hostStates(this.rolloutId));
      const n = states.filter((s) => !NOT_IN_FLIGHT.has(s)).length;
      this.max = Math.max(this.max, n);
      this.samples++;
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
