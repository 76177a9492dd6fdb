import { HANDOVER_PHASES, HOST_OUTCOMES, ROLLBACK_STEPS } from '@luo-fleet/handover';
import { WAITING_STATES } from '@luo-fleet/rollout';

/** Steps a host can be in while its handover runs: the phases, then the rollback steps. */
export const STEP_STATES: readonly string[] = [...HANDOVER_PHASES, ...ROLLBACK_STEPS];

/** Every state `luo_fleet_rollout_hosts` reports, always all of them so series never appear from nothing. */
export const ROLLOUT_HOST_STATES: readonly string[] = [...WAITING_STATES, ...STEP_STATES, ...HOST_OUTCOMES];

/** Admitted and not finished: queued for a worker, or in a step. */
export function isInFlight(state: string): boolean {
  return state === 'queued' || STEP_STATES.includes(state);
}

/** What eats a rollout's failure budget. */
export const FAILURE_OUTCOMES: readonly string[] = ['failed', 'rolled_back'];
