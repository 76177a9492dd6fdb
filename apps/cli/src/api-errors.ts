/** How the CLI's API calls fail: each a typed, one-line error with its exit code. */

interface ApiIssue {
  field: string;
  problem: string;
}

/** The body of a planner error answer, as far as the CLI reads it. */
export type ApiErrorBody = { message?: string; issues?: ApiIssue[] };

/** Something the CLI reports and exits on: one line on stderr, no stack. */
export abstract class CliFailure extends Error {
  abstract readonly exitCode: number;
}

/**
 * The planner refused (4xx: exit 2, the request was wrong) or failed (5xx: exit 1). The message
 * leads with the status and names each wrong field: `400 maxConcurrent: must be at least 1`.
 */
export class ApiError extends CliFailure {
  override name = 'ApiError';
  readonly exitCode: number;

  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | null,
  ) {
    const detail = body?.issues?.length ? body.issues.map((i) => `${i.field}: ${i.problem}`).join('; ') : (body?.message ?? 'no details');
    super(`${status} ${detail}`);
    this.exitCode = status >= 400 && status < 500 ? 2 : 1;
  }
}

/** No answer at all (refused, DNS, timeout) or not the planner's JSON: exit 1. */
export class ApiUnreachable extends CliFailure {
  override name = 'ApiUnreachable';
  readonly exitCode = 1;
}

/** Bad --api URL and the like: the command line is wrong (exit 2). */
export class ApiUsageError extends CliFailure {
  override name = 'ApiUsageError';
  readonly exitCode = 2;
}
