import type { LoggerService } from '@nestjs/common';
import type { AuditLog } from './audit-log';
import type { ApiRequest, ApiResponse as Response, NextFunction } from '../auth/api-request';
import { clientAddress } from '../auth/bearer-token.guard';
import { auditTargetOf } from './audit-target';
import { clipPath, type RefusalLog, type RefusalReason } from './refusal-log';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Paths in the audit log: any route with the longest id it takes fits. */
const MAX_AUDITED_PATH = 256;

/**
 * Express middleware, installed before the routes, that sorts every answer into one of two logs:
 *
 * - A mutating call by an authorized caller (the auth guard set `principal`), whatever its
 *   outcome (400s included), goes to the audit log. Its answer is held back until the entry is
 *   written: a caller never sees an answer that the audit log does not have. If Redis cannot take
 *   the entry, the answer still goes out and the failure is logged.
 * - A request refused before any handler ran (the guard set `refusal`: 401, 403, 429; or a
 *   mutating call to a route that does not exist) goes to the refusal log, which is rate-limited
 *   and bounded (RefusalLog), and never holds the answer back.
 */
export function auditRecorder(log: AuditLog, refusals: RefusalLog, logger: LoggerService) {
  return (req: ApiRequest, res: Response, next: NextFunction): void => {
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let recorded = false;
    res.end = ((...args: unknown[]) => {
      if (recorded) return end(...args);
      recorded = true;
      const path = req.originalUrl.split('?')[0];
      if (req.principal !== undefined) {
        if (!MUTATING.has(req.method)) return end(...args);
        log
          .append({
            actor: req.principal.name,
            role: req.principal.role,
            method: req.method,
            path: clipPath(path, MAX_AUDITED_PATH),
            target: req.auditTarget ?? auditTargetOf(path, req.body),
            status: res.statusCode,
            at: new Date().toISOString(),
          })
          .catch((err: unknown) => logger.error(`audit entry for ${req.method} ${clipPath(path)} not written: ${(err as Error).message}`))
          .finally(() => end(...args));
        return res;
      }
      const reason: RefusalReason | undefined = req.refusal?.reason ?? (res.statusCode === 404 && MUTATING.has(req.method) ? 'no-such-route' : undefined);
      if (reason !== undefined) {
        refusals
          .append({ reason, actor: req.refusal?.actor ?? null, method: req.method, path, status: res.statusCode, client: clientAddress(req), at: new Date().toISOString() })
          .catch((err: unknown) => logger.error(`refusal entry for ${req.method} ${clipPath(path)} not written: ${(err as Error).message}`));
      }
      return end(...args);
    }) as Response['end'];
    next();
  };
}
