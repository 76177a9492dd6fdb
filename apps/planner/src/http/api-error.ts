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

/** A 400 naming every wrong field; the one way the planner reports bad input. */
export class InvalidInput extends BadRequestException {
  constructor(readonly issues: ApiIssue[]) {
    const body: ApiErrorBody = {
      statusCode: 400,
      error: 'Bad Request',
      message: `invalid input: ${issues
        .slice(0, 5)
        .map((i) => `${i.field}: ${i.problem}`)
        .join('; ')}${issues.length > 5 ? `; and ${issues.length - 5} more` : ''}`,
      issues,
    };
    super(body);
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
