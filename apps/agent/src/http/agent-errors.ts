import { HttpException } from '@nestjs/common';

export interface FieldIssue {
  field: string;
  problem: string;
}

const TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

/** A refusal with the one JSON shape every agent error has: `{ statusCode, error, message, issues? }`. */
export function refusal(status: 400 | 404 | 409 | 503, message: string, issues?: FieldIssue[]): HttpException {
  return new HttpException({ statusCode: status, error: TEXT[status], message, ...(issues ? { issues } : {}) }, status);
}

export function fieldRefusal(status: 400 | 404, issues: FieldIssue[]): HttpException {
  return refusal(status, issues.map((i) => `${i.field}: ${i.problem}`).join('; '), issues);
}
