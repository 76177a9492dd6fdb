import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ApiResponse as Response } from '../auth/api-request';
import { statusText, type ApiErrorBody } from './api-error';
import { domainErrorBody } from './domain-errors';

/** ioredis gives up on a command after its retries while the connection is down. */
function isRedisOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  return e?.name === 'MaxRetriesPerRequestError' || e?.message === 'Connection is closed.' || e?.code === 'ECONNREFUSED';
}

/** The response for anything thrown while serving a request; null means "unexpected: a 500". */
export function apiErrorFor(err: unknown): ApiErrorBody | null {
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    if (typeof response === 'object' && response !== null) {
      const r = response as Partial<ApiErrorBody> & { message?: unknown };
      // A report without a message (terminus' health details) keeps its fields beside ours.
      if (r.message === undefined) return { ...(response as object), statusCode: status, error: statusText(status), message: err.message };
      const message = Array.isArray(r.message) ? r.message.join('; ') : typeof r.message === 'string' ? r.message : err.message;
      return { statusCode: status, error: statusText(status), message, ...(r.issues ? { issues: r.issues } : {}) };
    }
    return { statusCode: status, error: statusText(status), message: String(response) };
  }
  const domain = domainErrorBody(err);
  if (domain) return domain;
  if (isRedisOutage(err)) return { statusCode: 503, error: 'Service Unavailable', message: 'the inventory store (Redis) is not answering; retry later' };
  return null;
}

/**
 * Every error leaves as JSON of one shape. Domain errors are answered from their table
 * (domain-errors.ts); anything else is a 500 whose body says nothing about the internals (the
 * stack goes to the log).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<{ method?: string; originalUrl?: string }>();
    let body = apiErrorFor(err);
    if (body === null) {
      this.logger.error(`${req.method} ${req.originalUrl?.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}`);
      body = { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal Server Error', message: 'internal error; the planner log has the details' };
    }
    if (res.headersSent) return;
    res.status(body.statusCode).json(body);
  }
}
