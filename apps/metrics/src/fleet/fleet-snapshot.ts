import type { RedisClient } from '@luo-fleet/redis';
import type { FleetKeys } from '@luo-fleet/redis';
import type { FleetStats } from '@luo-fleet/telemetry';
import { ActiveRolloutsReader, type ActiveRolloutsView } from './active-rollouts-reader';
import { FleetStatsReader } from './fleet-stats-reader';
import { QueueCensusReader, type QueueCensus } from './queue-census';

/** Everything one scrape reports about the fleet, read from Redis. */
export interface FleetSnapshot {
  stats: FleetStats;
  active: ActiveRolloutsView;
  queues: QueueCensus;
}

/** Reads a snapshot; one per scrape, so every metric of a scrape describes the same moment. */
export class FleetSnapshotReader {
  private readonly stats: FleetStatsReader;
  private readonly rollouts: ActiveRolloutsReader;
  private readonly queues: QueueCensusReader;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {
    this.stats = new FleetStatsReader(redis, keys);
    this.rollouts = new ActiveRolloutsReader(redis, keys);
    this.queues = new QueueCensusReader(redis, keys);
  }

  async read(): Promise<FleetSnapshot> {
    const activeIds = (await this.redis.smembers(this.keys.activeRollouts())).sort();
    const [stats, active, queues] = await Promise.all([
      this.stats.read(new Set(activeIds)),
      this.rollouts.read(activeIds),
      this.queues.read(),
    ]);
    return { stats, active, queues };
  }

  get settledRollouts(): number {
    return this.stats.settledCount;
  }

  async close(): Promise<void> {
    await this.queues.close();
  }
}
