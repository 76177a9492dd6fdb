import type IORedis from 'ioredis';
import { FleetKeys } from '@luo-fleet/redis';
import { vmValidationStat } from '@luo-fleet/telemetry';
import { recordHandovers } from '../support/metrics-record-handovers';
import { failedHost, rolledBackHost, skippedHost, stuckHost, updatedHost } from '../metrics/handover-scenario';
import { REDIS_URL, storeActiveRollout } from '../metrics/redis-fixture';

/** An active rollout with every kind of outcome, a stuck host, and a handover finishing every `everyMs` until stopped. */
export async function startFleetTraffic(redis: IORedis, prefix: string, everyMs = 250): Promise<{ stop(): Promise<void> }> {
  const keys = new FleetKeys(prefix);
  const job = (handovers: Parameters<typeof recordHandovers>[0]['handovers']) => recordHandovers({ redisUrl: REDIS_URL, prefix, rolloutId: 'live', handovers });
  await storeActiveRollout(redis, keys, 'live', { maxConcurrent: 5, maxFailures: 2 });
  await job([updatedHost('h0'), rolledBackHost('h1'), failedHost('h2'), skippedHost('h3'), stuckHost('h4', 30_000)]);
  // The rollout's VM verdicts, as the planner counts them when it creates a rollout.
  for (const [field, by] of [...vmValidationStat('plan', 'preservable', 'none', 6), ...vmValidationStat('plan', 'rejected', 'MEMORY_HUGETLB', 2)]) {
    await redis.hincrby(keys.stats('live'), field, by);
  }
  let n = 5;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const host = `h${n++}`;
      await job([n % 7 === 0 ? rolledBackHost(host) : updatedHost(host)]);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
