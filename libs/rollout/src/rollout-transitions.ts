import type { RolloutStatus } from './rollout';

/** What an operator may ask of a rollout. */
export const ROLLOUT_ACTIONS = ['pause', 'resume', 'approve', 'abort'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/**
 * What moves a rollout's status: an operator's action, or what the coordinator finds (`start`:
 * the window opened; `expire`: the cutoff passed with hosts not started; `await_approval`: a canary
 * batch is done and the next needs an operator; `complete`: every batch done, no host left), or an
 * outcome that exceeds the failure budget (`halt`).
 */
export type RolloutEvent = RolloutAction | 'start' | 'expire' | 'await_approval' | 'complete' | 'halt';

export interface RolloutTransition {
  /** The statuses the event applies in; in any other it changes nothing. */
  from: readonly RolloutStatus[];
  /** The status after it; `pausedFrom`: the status the rollout was paused from. */
  to: RolloutStatus | 'pausedFrom';
}

/**
 * Every change of a rollout's status. The Lua scripts that change it in Redis (libs/store) are
 * generated from this table, and a spec there checks each script against it.
 */
export const ROLLOUT_TRANSITIONS: Readonly<Record<RolloutEvent, RolloutTransition>> = {
  start: { from: ['scheduled'], to: 'running' },
  pause: { from: ['scheduled', 'running', 'awaiting_approval'], to: 'paused' },
  resume: { from: ['paused'], to: 'pausedFrom' },
  approve: { from: ['awaiting_approval'], to: 'running' },
  abort: { from: ['scheduled', 'running', 'paused', 'awaiting_approval'], to: 'aborted' },
  expire: { from: ['running', 'paused'], to: 'expired' },
  await_approval: { from: ['running'], to: 'awaiting_approval' },
  complete: { from: ['running'], to: 'completed' },
  halt: { from: ['running', 'paused', 'awaiting_approval'], to: 'halted' },
};

/**
 * The status after `event`, or null when the event does not apply in `status`. `pausedFrom` is the
 * status a paused rollout was paused from (running when not known).
 */
export function rolloutStatusAfter(status: RolloutStatus, event: RolloutEvent, pausedFrom?: RolloutStatus): RolloutStatus | null {
  const transition = ROLLOUT_TRANSITIONS[event];
  if (!transition.from.includes(status)) return null;
  return transition.to === 'pausedFrom' ? (pausedFrom ?? 'running') : transition.to;
}
