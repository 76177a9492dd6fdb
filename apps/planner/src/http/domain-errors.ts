import { UnknownProfileError } from '@luo-fleet/preservation';
import { FaultProfileError } from '@luo-fleet/simulated-host';
import { HostNotFoundError, SelectorError } from '@luo-fleet/store';
import { TopologyValidationError } from '@luo-fleet/topology';
import { RolloutInputError } from '../rollouts/rollout-creation';
import { fieldPath, invalidInputBody, MalformedBody, statusText, type ApiErrorBody } from './api-error';

interface DomainErrorAnswer<E extends Error> {
  error: abstract new (...args: never[]) => E;
  answer(err: E): ApiErrorBody;
}

const answer = <E extends Error>(error: DomainErrorAnswer<E>['error'], body: (err: E) => ApiErrorBody): DomainErrorAnswer<Error> =>
  ({ error, answer: body }) as DomainErrorAnswer<Error>;

/**
 * The errors the planner's libraries and core throw that are the caller's to fix, each with the
 * status and body it is answered with. Wherever one is thrown, the exception filter answers it
 * from here; an error not in the table (nor an HttpException) is a 500.
 */
const DOMAIN_ERRORS: DomainErrorAnswer<Error>[] = [
  answer(MalformedBody, (e) =>
    e.status === 400 ? invalidInputBody([{ field: 'body', problem: e.problem }]) : { statusCode: e.status, error: statusText(e.status), message: e.problem },
  ),
  answer(TopologyValidationError, (e) => invalidInputBody(e.issues.map((i) => ({ field: fieldPath('topology', i.path), problem: i.problem })))),
  answer(UnknownProfileError, (e) => invalidInputBody([{ field: 'profile', problem: e.message }])),
  answer(SelectorError, (e) => invalidInputBody([{ field: 'selector', problem: e.problem }])),
  answer(RolloutInputError, (e) => invalidInputBody([{ field: e.field, problem: e.problem }])),
  answer(FaultProfileError, (e) => invalidInputBody([{ field: e.field, problem: e.problem }])),
  answer(HostNotFoundError, (e) => ({ statusCode: 404, error: statusText(404), message: e.message })),
];

/** The answer to a domain error, or null when `err` is none of the table's. */
export function domainErrorBody(err: unknown): ApiErrorBody | null {
  const entry = DOMAIN_ERRORS.find((d) => err instanceof d.error);
  return entry ? entry.answer(err as Error) : null;
}
