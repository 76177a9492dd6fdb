import type { Queue } from 'bullmq';
import { enqueueRolloutJob, readRolloutJob, rolloutJobId, type RolloutJobData } from './rollout-job';
import { ROLLOUT_QUEUE } from './names';
import type { RolloutJobs } from './ports';
import { openQueue, type QueueConnection } from './queue-connection';

/** A rollout's coordinator job as read back from its queue. */
export interface RolloutJobView {
  data: RolloutJobData;
  state: string;
  /** The delay it was added with, in ms. */
  delayMs: number;
}

/** RolloutJobs on a BullMQ queue. */
export class BullRolloutJobs implements RolloutJobs {
  constructor(private readonly queue: Queue<RolloutJobData>) {}

  enqueue(rolloutId: string, delayMs: number): Promise<void> {
    return enqueueRolloutJob(this.queue, rolloutId, delayMs);
  }

  async has(rolloutId: string): Promise<boolean> {
    return (await this.queue.getJob(rolloutJobId(rolloutId))) !== undefined;
  }

  /** The rollout's coordinator job with its payload, state and delay, for inspection. */
  async find(rolloutId: string): Promise<RolloutJobView | undefined> {
    const job = await this.queue.getJob(rolloutJobId(rolloutId));
    if (!job) return undefined;
    return { data: readRolloutJob(job.data), state: await job.getState(), delayMs: job.opts.delay ?? 0 };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export function openRolloutJobs(connection: QueueConnection, prefix: string): BullRolloutJobs {
  return new BullRolloutJobs(openQueue<RolloutJobData>(ROLLOUT_QUEUE, connection, prefix));
}
