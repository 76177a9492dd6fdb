import { z } from 'zod';
import type { JobsOptions, Queue } from 'bullmq';
import { ROLLOUT_JOB } from './names';

/** Payload of a rollout's coordinator job. */
export interface RolloutJobData {
  rolloutId: string;
}

const rolloutJobSchema = z.object({ rolloutId: z.string().min(1) });

/** A coordinator job's payload as read back from the queue; throws when it names no rollout. */
export function readRolloutJob(data: unknown): RolloutJobData {
  return rolloutJobSchema.parse(data);
}

/** One coordinator job per rollout: its id is derived from the rollout id. */
export function rolloutJobId(rolloutId: string): string {
  return `rollout.${rolloutId}`;
}

/**
 * A coordinator that throws is tried again a second later: each attempt resumes from the rollout's
 * state in Redis. Finished coordinator jobs stay a day and failed ones a week, to be read.
 */
export const ROLLOUT_JOB_OPTIONS: JobsOptions = {
  attempts: 1_000,
  backoff: { type: 'fixed', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Adds a rollout's coordinator job, delayed by `delayMs` (until its window opens). The one way a
 * coordinator job is added: under the rollout's job id, so adding it while it exists is a no-op and
 * a retried or repeated add never makes a second coordinator.
 */
export async function enqueueRolloutJob(queue: Queue<RolloutJobData>, rolloutId: string, delayMs: number): Promise<void> {
  await queue.add(ROLLOUT_JOB, { rolloutId }, { ...ROLLOUT_JOB_OPTIONS, jobId: rolloutJobId(rolloutId), delay: delayMs });
}
