/**
 * Child process of the handover benchmark's baseline: one BullMQ Worker with a no-op processor,
 * on the queue the parent names, until SIGTERM. What BullMQ itself costs per job on this Redis.
 * Env: REDIS_URL, BENCH_BULL_PREFIX, BENCH_QUEUE, WORKER_CONCURRENCY.
 */
import { Worker } from 'bullmq';

const worker = new Worker(process.env.BENCH_QUEUE ?? 'empty', async () => undefined, {
  connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxRetriesPerRequest: null },
  prefix: process.env.BENCH_BULL_PREFIX,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 100),
});
worker.on('error', (err) => process.stderr.write(`empty-job worker: ${err.message}\n`));
const stop = () => {
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
