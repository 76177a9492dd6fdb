import { ConflictException, NotFoundException } from '@nestjs/common';
import { FaultProfileError } from '@luo-fleet/simulated-host';
import { UnknownProfileError } from '@luo-fleet/preservation';
import { RolloutInputError } from './rollout-creation';
import { ROLLOUT_TRANSITIONS, type RolloutAction } from '@luo-fleet/rollout';
import { InvalidInput } from '../http/api-error';

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

/** Creation refused for what the request asked (not how it was written): a 400 on the field; anything else as is. */
export function creationRefusal(err: unknown): unknown {
  if (err instanceof RolloutInputError || err instanceof FaultProfileError) return new InvalidInput([{ field: err.field, problem: err.problem }]);
  if (err instanceof UnknownProfileError) return new InvalidInput([{ field: 'profile', problem: err.message }]);
  return err;
}
