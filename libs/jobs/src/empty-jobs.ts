import { Worker, type Queue } from 'bullmq';
import { HANDOVER_JOB_OPTIONS } from './handover-job';
import { openQueue, type QueueConnection } from './queue-connection';

/**
 * Jobs that carry nothing, for a worker that does nothing with them: what BullMQ itself costs per
 * job (the handover benchmark's baseline), and queue contents for tests of what reads the queues.
 * Not used by the fleet.
 */
export const EMPTY_JOB = 'empty';

export class EmptyJobs {
  constructor(private readonly queue: Queue) {}

  /**
   * One job per id, with a handover job's options so that BullMQ does for it what it does for a
   * handover job; `keepCompleted` keeps that many completed jobs to be counted (a handover job is
   * removed at once), `delayMs` holds them back.
   */
  async add(ids: readonly string[], opts: { delayMs?: number; keepCompleted?: number } = {}): Promise<void> {
    const { delayMs, keepCompleted } = opts;
    await this.queue.addBulk(
      ids.map((jobId) => ({
        name: EMPTY_JOB,
        data: {},
        opts: {
          ...HANDOVER_JOB_OPTIONS,
          jobId,
          ...(delayMs === undefined ? {} : { delay: delayMs }),
          ...(keepCompleted === undefined ? {} : { removeOnComplete: { count: keepCompleted } }),
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export function openEmptyJobs(connection: QueueConnection, prefix: string, queue: string): EmptyJobs {
  return new EmptyJobs(openQueue(queue, connection, prefix));
}

export interface EmptyJobWorker {
  /** Resolves once the worker is connected (and counted by QueueCounter.workers). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** A worker that completes every job of `queue` without doing anything; errors go to `onError`. */
export function startEmptyJobWorker(
  connection: QueueConnection,
  prefix: string,
  queue: string,
  opts: { concurrency?: number; onError?: (err: Error) => void } = {},
): EmptyJobWorker {
  const worker = new Worker(queue, async () => undefined, { connection, prefix, ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }) });
  worker.on('error', opts.onError ?? (() => undefined));
  return {
    ready: async () => void (await worker.waitUntilReady()),
    close: () => worker.close(),
  };
}
