import { Queue, type ConnectionOptions } from 'bullmq';

/** How a queue reaches Redis: an ioredis client or Cluster to share, or options for BullMQ to connect with. */
export type QueueConnection = ConnectionOptions;

/**
 * Opens a queue under the fleet's BullMQ prefix. Its errors surface on the calls that hit them; the
 * 'error' event would otherwise be unhandled and end the process.
 */
export function openQueue<T>(name: string, connection: QueueConnection, prefix: string): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}
