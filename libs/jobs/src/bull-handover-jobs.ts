import type { JobsOptions, Queue } from 'bullmq';
import { HANDOVER_JOB_OPTIONS, type HandoverJobData } from './handover-job';
import { HANDOVER_JOB, HANDOVER_QUEUE } from './names';
import type { HandoverJobState, HandoverJobs } from './ports';
import { openQueue, type QueueConnection } from './queue-connection';

/** HandoverJobs on a BullMQ queue: a handover's job id is its handover id. */
export class BullHandoverJobs implements HandoverJobs {
  constructor(
    private readonly queue: Queue<HandoverJobData>,
    private readonly options: JobsOptions = HANDOVER_JOB_OPTIONS,
  ) {}

  async enqueue(orders: readonly HandoverJobData[]): Promise<void> {
    if (orders.length === 0) return;
    await this.queue.addBulk(orders.map((data) => ({ name: HANDOVER_JOB, data, opts: { ...this.options, jobId: data.plan.handoverId } })));
  }

  async state(handoverId: string): Promise<HandoverJobState> {
    const job = await this.queue.getJob(handoverId);
    return job ? await job.getState() : 'missing';
  }

  async remove(handoverId: string): Promise<void> {
    await this.queue.remove(handoverId);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** The handover queue under `prefix`, its jobs added with `options` (tests choose quicker retries). */
export function openHandoverJobs(connection: QueueConnection, prefix: string, options: JobsOptions = HANDOVER_JOB_OPTIONS): BullHandoverJobs {
  return new BullHandoverJobs(openQueue<HandoverJobData>(HANDOVER_QUEUE, connection, prefix), options);
}
