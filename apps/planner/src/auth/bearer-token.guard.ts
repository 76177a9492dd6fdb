import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleAllows, type ApiRole } from './auth-tokens';
import { PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from './access.decorators';
import type { ApiRequest, ApiResponse as Response } from './api-request';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer +([^\s]+) *$/i;

/** Every route needs `Authorization: Bearer <token>` of a configured grant with a sufficient role. */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PLANNER_SETTINGS) private readonly settings: PlannerSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<ApiRequest>();
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw this.unauthorized(context, 'missing bearer token: send Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) throw this.unauthorized(context, 'Authorization header is not of the form "Bearer <token>"');
    const principal = this.settings.tokens.principalFor(match[1]);
    if (principal === null) throw this.unauthorized(context, 'invalid bearer token');
    req.principal = principal;
    const needed: ApiRole = this.reflector.getAllAndOverride<ApiRole>(REQUIRED_ROLE, targets) ?? (READ_METHODS.has(req.method) ? 'viewer' : 'operator');
    if (!roleAllows(principal.role, needed)) {
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: `${principal.name} has role ${principal.role}; ${req.method} ${req.path} needs ${needed}`,
      });
    }
    return true;
  }

  private unauthorized(context: ExecutionContext, message: string): UnauthorizedException {
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="luo-fleet"');
    return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
  }
}
