import { Queue } from 'bullmq';
import type { RedisClient } from '@luo-fleet/redis';
import { type FleetKeys } from '@luo-fleet/redis';
import { HANDOVER_QUEUE } from '@luo-fleet/jobs';

/** The coordinator's queue (one job per rollout tick); the handover queue has one job per host. */
export const ROLLOUT_QUEUE = 'rollout';

export interface QueueCensus {
  /** queue -> state -> jobs */
  jobs: Map<string, Record<string, number>>;
  /** Workers connected to the handover queue (BullMQ names their Redis clients). */
  handoverWorkers: number;
}

/** Job counts by state and connected workers, read through BullMQ so its key layout stays its own business. */
export class QueueCensusReader {
  private readonly queues: Queue[];

  constructor(redis: RedisClient, keys: FleetKeys) {
    this.queues = [HANDOVER_QUEUE, ROLLOUT_QUEUE].map((name) => {
      const queue = new Queue(name, { connection: redis, prefix: keys.bullPrefix() });
      queue.on('error', () => undefined); // surfaces as luo_fleet_redis_up 0
      return queue;
    });
  }

  async read(): Promise<QueueCensus> {
    const counts = await Promise.all(this.queues.map((q) => q.getJobCounts()));
    const handoverWorkers = await this.queues[0].getWorkersCount();
    return { jobs: new Map(this.queues.map((q, i) => [q.name, counts[i]])), handoverWorkers };
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
