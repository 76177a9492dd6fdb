/** Nest tokens of the libs/jobs ports the worker's plain-TS parts take (provided in WorkerModule). */
export const HANDOVER_JOBS = Symbol('HANDOVER_JOBS');
export const ROLLOUT_JOBS = Symbol('ROLLOUT_JOBS');
