import { ForbiddenException, HttpException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleAllows, type ApiRole } from './auth-tokens';
import { PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from './access.decorators';
import type { ApiRequest, ApiResponse as Response, AuthRefusalReason } from './api-request';
import { FailedAuthLimiter } from './failed-auth-limiter';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer +([^\s]+) *$/i;

/** The client's own address: a proxy's X-Forwarded-For is not trusted, so behind one all clients share its budget. */
export function clientAddress(req: ApiRequest): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Every route needs `Authorization: Bearer <token>` of a configured grant with a sufficient role.
 * It runs before the body is read (see json-body.interceptor), so a refused request costs its
 * headers only; its body is left unread and the connection closed after the answer. Failed
 * authentications are budgeted per client address (FailedAuthLimiter): past the burst, 429.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PLANNER_SETTINGS) private readonly settings: PlannerSettings,
    @Inject(FailedAuthLimiter) private readonly failures: FailedAuthLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<ApiRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const client = clientAddress(req);
    const wait = this.failures.retryAfterMs(client);
    if (wait > 0) {
      refuse(req, res, 'rate-limited');
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      throw new HttpException(
        { statusCode: 429, error: 'Too Many Requests', message: `too many failed authentications from ${client}; retry in ${Math.ceil(wait / 1000)} s` },
        429,
      );
    }
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw this.unauthorized(req, res, 'missing-token', 'missing bearer token: send Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) throw this.unauthorized(req, res, 'malformed-header', 'Authorization header is not of the form "Bearer <token>"');
    const principal = this.settings.tokens.principalFor(match[1]);
    if (principal === null) throw this.unauthorized(req, res, 'invalid-token', 'invalid bearer token');
    const needed: ApiRole = this.reflector.getAllAndOverride<ApiRole>(REQUIRED_ROLE, targets) ?? (READ_METHODS.has(req.method) ? 'viewer' : 'operator');
    if (!roleAllows(principal.role, needed)) {
      refuse(req, res, 'forbidden', principal.name);
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: `${principal.name} has role ${principal.role}; ${req.method} ${req.path} needs ${needed}`,
      });
    }
    req.principal = principal;
    return true;
  }

  private unauthorized(req: ApiRequest, res: Response, reason: AuthRefusalReason, message: string): UnauthorizedException {
    this.failures.recordFailure(clientAddress(req));
    refuse(req, res, reason);
    res.setHeader('WWW-Authenticate', 'Bearer realm="luo-fleet"');
    return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
  }
}

/** Marks the request refused for the audit, and has the connection closed after the answer if a body was coming: it is never read. */
function refuse(req: ApiRequest, res: Response, reason: AuthRefusalReason, actor?: string): void {
  req.refusal = actor === undefined ? { reason } : { reason, actor };
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) res.setHeader('Connection', 'close');
}
