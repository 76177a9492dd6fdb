export * from './names';
export * from './handover-job';
export * from './rollout-job';
export * from './ports';
export type { QueueConnection } from './queue-connection';
export * from './bull-handover-jobs';
export * from './bull-rollout-jobs';
export * from './queue-counter';
export * from './empty-jobs';
export * from './worker-node-flags';
/** BullMQ's queue, as the worker's module receives it from @nestjs/bullmq to wrap in the ports. */
export type { Queue as JobQueue } from 'bullmq';
