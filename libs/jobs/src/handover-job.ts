import type { HandoverOrder } from '@luo-fleet/handover';

import type { JobsOptions } from 'bullmq';

export const HANDOVER_QUEUE = 'handover';

/**
 * Node flags a worker process runs with (docker-compose, the demo, the chaos run and the benchmarks
 * start it so). A worker keeps a hundred handovers in flight, and every young-generation collection
 * copies what they hold alive: a 32 MiB semi-space (V8's default is 16) halves how often that
 * happens. Measured with --trace-gc over 15,000 handovers in one process: 245 scavenges, 762 ms,
 * against 125 and 322 ms (64 MiB: 78 and 294 ms); resident memory ~15-30 MiB more.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
/** One long-running job per rollout: its coordinator. */
export const ROLLOUT_QUEUE = 'rollout';

export interface RolloutJobData {
  rolloutId: string;
}

export function rolloutJobId(rolloutId: string): string {
  return `rollout.${rolloutId}`;
}

/**
 * A handover job retries transient trouble (Redis away, lease lost) on its own; the rollout
 * coordinator's reconciliation re-adds one that gave up. The journal, not the job, is the record:
 * a completed job is removed at once (its outcome is in the journal, the rollout's results and the
 * event stream; the job only adds its plan, kilobytes). Keeping the last 1,000 for an hour cost
 * Redis ~20 us per handover (a tenth of its work per handover in `npm run bench -- handover`) in
 * the age and count trimming BullMQ runs at every completion. Failed jobs stay a day: their errors
 * are worth reading. A job added again for a host with an outcome (reconciliation) finds the
 * outcome in the journal and leaves the host alone.
 */
export const HANDOVER_JOB_OPTIONS: JobsOptions = {
  attempts: 25,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};

export const ROLLOUT_JOB_OPTIONS: JobsOptions = {
  attempts: 1_000,
  backoff: { type: 'fixed', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Payload of a `handover` job; its job id is the handover id, so a host is enqueued once per rollout. */
export type HandoverJobData = HandoverOrder;
