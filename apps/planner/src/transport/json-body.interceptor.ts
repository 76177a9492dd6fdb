import { Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { ApiRequest, ApiResponse } from '../auth/api-request';
import { PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { byteSize, readJsonBody } from './json-body';

/**
 * The body limit of every route but the batch: the largest single-host request (a host of the fleet
 * generator's largest topology, 200 devices) is ~68 KB of JSON, and 1 MB leaves room for a plan
 * request listing devices for thousands of hosts.
 */
export const DEFAULT_BODY_LIMIT = '1mb';

const LARGE_BODY = 'luo-fleet:large-body';

/**
 * The route takes bodies up to PLANNER_BODY_LIMIT (default 64mb: 1,000 hosts of the generator's
 * largest topology are ~64 MB of JSON): the batch registration only.
 */
export const LargeBody = () => SetMetadata(LARGE_BODY, true);

/**
 * Reads the JSON body after the guards: a request is authenticated on its headers alone, and a
 * refused one (or one for a route that does not exist) is never read. The limit is the route's.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  private readonly limits: { small: number; large: number };

  constructor(
    private readonly reflector: Reflector,
    @Inject(PLANNER_SETTINGS) private readonly settings: PlannerSettings,
  ) {
    this.limits = { small: byteSize(DEFAULT_BODY_LIMIT), large: byteSize(settings.bodyLimit) };
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<ApiRequest>();
    const res = context.switchToHttp().getResponse<ApiResponse>();
    const large = this.reflector.getAllAndOverride<boolean>(LARGE_BODY, [context.getHandler(), context.getClass()]) === true;
    req.body = large
      ? await readJsonBody(req, res, this.limits.large, this.settings.bodyLimit)
      : await readJsonBody(req, res, this.limits.small, DEFAULT_BODY_LIMIT);
    return next.handle();
  }
}
