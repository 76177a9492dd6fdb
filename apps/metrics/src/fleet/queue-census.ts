import type { RedisClient } from '@luo-fleet/redis';
import { type FleetKeys } from '@luo-fleet/redis';
import { HANDOVER_QUEUE, openQueueCounter, ROLLOUT_QUEUE, type QueueCounter } from '@luo-fleet/jobs';

export interface QueueCensus {
  /** queue -> state -> jobs */
  jobs: Map<string, Record<string, number>>;
  /** Workers connected to the handover queue. */
  handoverWorkers: number;
}

/** Job counts by state of the handover and rollout queues, and the workers on the handover queue. */
export class QueueCensusReader {
  private readonly handovers: QueueCounter;
  private readonly rollouts: QueueCounter;

  constructor(redis: RedisClient, keys: FleetKeys) {
    // Errors surface on the reads that hit them, as luo_fleet_redis_up 0.
    this.handovers = openQueueCounter(redis, keys.bullPrefix(), HANDOVER_QUEUE);
    this.rollouts = openQueueCounter(redis, keys.bullPrefix(), ROLLOUT_QUEUE);
  }

  async read(): Promise<QueueCensus> {
    const counters = [this.handovers, this.rollouts];
    const counts = await Promise.all(counters.map((q) => q.jobs()));
    const handoverWorkers = await this.handovers.workers();
    return { jobs: new Map(counters.map((q, i) => [q.name, counts[i]])), handoverWorkers };
  }

  async close(): Promise<void> {
    await Promise.all([this.handovers.close(), this.rollouts.close()]);
  }
}
