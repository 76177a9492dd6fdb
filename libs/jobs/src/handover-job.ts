import { z } from 'zod';
import type { HandoverOrder } from '@luo-fleet/handover';
import type { JobsOptions } from 'bullmq';

/** Payload of a handover job; its job id is the handover id, so a host is enqueued once per rollout. */
export type HandoverJobData = HandoverOrder;

/**
 * What a worker checks of a handover job before it acts on it: the ids that name the handover, the
 * target, and how to reach the host. The plan's device lists pass as the planner built them: a
 * worker compares the host against them step by step, which is where a wrong list shows.
 */
const handoverJobSchema = z.object({
  plan: z.looseObject({
    handoverId: z.string().min(1),
    hostId: z.string().min(1),
    rolloutId: z.string().min(1),
    targetKernel: z.string().min(1),
    profile: z.string(),
    strictAcs: z.boolean(),
    startBy: z.number().optional(),
  }),
  driver: z.discriminatedUnion('kind', [z.object({ kind: z.literal('simulated') }), z.object({ kind: z.literal('agent'), url: z.string() })]),
});

/** A handover job's payload as read back from the queue; throws when it is not a handover order. */
export function readHandoverJob(data: unknown): HandoverJobData {
  return handoverJobSchema.parse(data) as unknown as HandoverJobData;
}

/**
 * A handover job retries transient trouble (Redis away, lease lost) on its own; the rollout
 * coordinator's reconciliation re-adds one that gave up. The journal, not the job, is the record:
 * a completed job is removed at once (its outcome is in the journal, the rollout's results and the
 * event stream; the job only adds its plan), which also spares Redis the age and count trimming
 * BullMQ runs at every completion of a queue that keeps completed jobs. Failed jobs stay a day:
 * their errors are worth reading. A job added again for a host with an outcome (reconciliation)
 * finds the outcome in the journal and leaves the host alone.
 */
export const HANDOVER_JOB_OPTIONS: JobsOptions = {
  attempts: 25,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};
