import { ROLLOUT_ACTIONS, ROLLOUT_TRANSITIONS, type RolloutEvent } from '@luo-fleet/rollout';

/*
 * Lua text generated from libs/rollout's ROLLOUT_TRANSITIONS, so that the scripts that change a
 * rollout's status follow the table and nothing else (rollout-transitions.spec.ts checks them).
 */

/** A Lua condition: the event applies in the status held by the Lua variable `status`. */
export function luaApplies(event: RolloutEvent, status = 'status'): string {
  return `(${ROLLOUT_TRANSITIONS[event].from.map((s) => `${status} == '${s}'`).join(' or ')})`;
}

/** A Lua string literal: the status after an event with a fixed target. */
export function luaStatusAfter(event: Exclude<RolloutEvent, 'resume'>): string {
  return `'${ROLLOUT_TRANSITIONS[event].to}'`;
}

/**
 * Lua statements that set `to` to the status after the operator's `action` in `status`, false when
 * the action does not apply; 'pausedFrom' for the status the rollout was paused from.
 */
export function luaActionTarget(action = 'action', status = 'status'): string {
  const branches = ROLLOUT_ACTIONS.map(
    (a, i) => `${i === 0 ? 'if' : 'elseif'} ${action} == '${a}' and ${luaApplies(a, status)} then to = '${ROLLOUT_TRANSITIONS[a].to}'`,
  );
  return `local to = false\n${branches.join('\n')}\nend`;
}
