/** The queue of handovers: one job per host of a rollout, run by the workers' handover processor. */
export const HANDOVER_QUEUE = 'handover';
/** The queue of coordinators: one long-running job per rollout. */
export const ROLLOUT_QUEUE = 'rollout';

/** The name every job of the handover queue is added under. */
export const HANDOVER_JOB = 'handover';
/** The name every job of the rollout queue is added under. */
export const ROLLOUT_JOB = 'rollout';
