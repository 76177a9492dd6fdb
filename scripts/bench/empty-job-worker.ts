/**
 * Child process of the handover benchmark's baseline: one empty-job worker on the queue the parent
 * names, until SIGTERM. What BullMQ itself costs per job on this Redis.
 * Env: REDIS_URL, BENCH_BULL_PREFIX, BENCH_QUEUE, WORKER_CONCURRENCY.
 */
import { startEmptyJobWorker } from '@luo-fleet/jobs';

const worker = startEmptyJobWorker(
  { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxRetriesPerRequest: null },
  process.env.BENCH_BULL_PREFIX ?? 'bull', // BullMQ's own default
  process.env.BENCH_QUEUE ?? 'empty',
  { concurrency: Number(process.env.WORKER_CONCURRENCY ?? 100), onError: (err) => process.stderr.write(`empty-job worker: ${err.message}\n`) },
);
const stop = () => {
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
