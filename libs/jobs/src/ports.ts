import type { HandoverJobData } from './handover-job';

/** Where a handover job is in its queue, or `missing` when the handover has no job. */
export type HandoverJobState = 'active' | 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed' | 'unknown' | 'missing';

/** The handover queue, as the rollout coordinator uses it. */
export interface HandoverJobs {
  /** One job per order under its handover id: an order whose job still exists is not added again. */
  enqueue(orders: readonly HandoverJobData[]): Promise<void>;
  state(handoverId: string): Promise<HandoverJobState>;
  /** Removes the handover's job; a job a worker holds (locked) stays. */
  remove(handoverId: string): Promise<void>;
}

/** The rollout queue, as the planner and the coordinator watchdog use it. */
export interface RolloutJobs {
  /** Adds the rollout's coordinator job, `delayMs` from now; a no-op while the rollout has one. */
  enqueue(rolloutId: string, delayMs: number): Promise<void>;
  /** Whether the rollout has a coordinator job, in whatever state. */
  has(rolloutId: string): Promise<boolean>;
}
