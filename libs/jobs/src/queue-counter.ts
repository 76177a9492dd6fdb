import type { JobType, Queue } from 'bullmq';
import { openQueue, type QueueConnection } from './queue-connection';

/** Job counts by state and connected workers of one queue, read through BullMQ so its key layout stays its own. */
export class QueueCounter {
  constructor(private readonly queue: Queue) {}

  get name(): string {
    return this.queue.name;
  }

  /** Jobs in each of `states` (every state when none is named), by state. */
  jobs(...states: JobType[]): Promise<Record<string, number>> {
    return this.queue.getJobCounts(...states);
  }

  /** Workers connected to the queue (BullMQ names their Redis clients after it). */
  workers(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export function openQueueCounter(connection: QueueConnection, prefix: string, queue: string): QueueCounter {
  return new QueueCounter(openQueue(queue, connection, prefix));
}
