import type { LoggerService } from '@nestjs/common';
import type { AuditLog } from './audit-log';
import type { ApiRequest, ApiResponse as Response, NextFunction } from '../auth/api-request';
import { auditTargetOf } from './audit-target';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Express middleware, installed before the body parser and the routes, so it sees every mutating
 * call, refused ones included (bad JSON, 401, 403, 400). The response is held back until its audit
 * entry is written: a caller never sees an answer that the audit log does not have. If Redis
 * cannot take the entry, the answer still goes out and the failure is logged.
 */
export function auditRecorder(log: AuditLog, logger: LoggerService) {
  return (req: ApiRequest, res: Response, next: NextFunction): void => {
    if (!MUTATING.has(req.method)) return next();
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let recorded = false;
    res.end = ((...args: unknown[]) => {
      if (recorded) return end(...args);
      recorded = true;
      const path = req.originalUrl.split('?')[0];
      log
        .append({
          actor: req.principal?.name ?? null,
          role: req.principal?.role ?? null,
          method: req.method,
          path,
          target: req.auditTarget ?? auditTargetOf(path, req.body),
          status: res.statusCode,
          at: new Date().toISOString(),
        })
        .catch((err: unknown) => logger.error(`audit entry for ${req.method} ${path} not written: ${(err as Error).message}`))
        .finally(() => end(...args));
      return res;
    }) as Response['end'];
    next();
  };
}
