import { BadRequestException } from '@nestjs/common';

/** One wrong input: `field` is a dotted path into the request (`labels.rack`, `hosts.3.id`, `body`, `selector`). */
export interface ApiIssue {
  field: string;
  problem: string;
}

/** The JSON every refused or failed request gets. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: ApiIssue[];
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The `error` of a body: the status's reason phrase. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Server Error' : 'Error');
}

/** A message's list of issues: the first five, and how many more (the body's `issues` has them all). */
export function issueSummary(issues: ApiIssue[]): string {
  const listed = issues
    .slice(0, 5)
    .map((i) => `${i.field}: ${i.problem}`)
    .join('; ');
  return `${listed}${issues.length > 5 ? `; and ${issues.length - 5} more` : ''}`;
}

/** The 400 body naming every wrong field. */
export function invalidInputBody(issues: ApiIssue[]): ApiErrorBody {
  return { statusCode: 400, error: 'Bad Request', message: `invalid input: ${issueSummary(issues)}`, issues };
}

/** A 400 naming every wrong field; the one way the planner reports bad input. */
export class InvalidInput extends BadRequestException {
  constructor(readonly issues: ApiIssue[]) {
    super(invalidInputBody(issues));
  }
}

/** A request body that is not JSON at all (the body parser failed before any route ran). */
export class MalformedBody extends Error {
  constructor(
    readonly status: number,
    readonly problem: string,
  ) {
    super(problem);
    this.name = 'MalformedBody';
  }
}

/** `devices[3].bdf` (topology paths) and ['hosts', 3, 'id'] (zod paths) both become `hosts.3.id`. */
export function fieldPath(...parts: Array<string | number | symbol | ReadonlyArray<PropertyKey>>): string {
  const flat: string[] = [];
  for (const part of parts) {
    if (Array.isArray(part)) flat.push(...part.map(String));
    else if (typeof part === 'string') flat.push(...part.replace(/\[(\d+)\]/g, '.$1').split('.').filter((s) => s !== ''));
    else flat.push(String(part));
  }
  return flat.join('.');
}
