import { ConflictException, NotFoundException } from '@nestjs/common';
import { ROLLOUT_TRANSITIONS, type RolloutAction } from '@luo-fleet/rollout';

export class RolloutNotFound extends NotFoundException {
  constructor(id: string) {
    super({ statusCode: 404, error: 'Not Found', message: `no rollout ${id}`, issues: [{ field: 'id', problem: `no rollout ${id}` }] });
  }
}

/** An operator action that the rollout's current status does not allow (approve while running, ...). */
export class ActionNotApplicable extends ConflictException {
  constructor(action: RolloutAction, status: string) {
    const problem = `${action} applies only to a rollout that is ${ROLLOUT_TRANSITIONS[action].from.join(' or ')}; this one is ${status}`;
    super({ statusCode: 409, error: 'Conflict', message: `cannot ${action}: rollout is ${status}`, issues: [{ field: 'status', problem }] });
  }
}

export class IdempotencyConflict extends ConflictException {
  constructor(problem: string) {
    super({ statusCode: 409, error: 'Conflict', message: `Idempotency-Key: ${problem}`, issues: [{ field: 'Idempotency-Key', problem }] });
  }
}
