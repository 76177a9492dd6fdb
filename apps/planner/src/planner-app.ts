import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AuditLog } from './audit/audit-log';
import { auditRecorder } from './audit/audit-recorder';
import type { ApiRequest, ApiResponse, NextFunction } from './auth/api-request';
import { PlannerAppModule } from './app.module';
import { MalformedBody } from './http/api-error';
import { setupOpenApi } from './http/openapi';
import type { PlannerSettings } from './planner-settings';
import { connectPlannerRedis } from './redis.module';

export interface PlannerAppOptions {
  /** False silences Nest's own logging (tests); default: Nest's console logger. */
  logger?: LoggerService | false;
}

/** Body-parser failures (malformed JSON, too large, bad charset) as errors the exception filter names `body`. */
function bodyErrorTranslator(err: unknown, _req: ApiRequest, _res: ApiResponse, next: NextFunction): void {
  const e = err as { type?: string; status?: number; message?: string };
  if (typeof e?.type === 'string' && typeof e.status === 'number') {
    const problem = e.type === 'entity.parse.failed' ? `malformed JSON (${e.message})` : (e.message ?? e.type);
    return next(new MalformedBody(e.status, problem));
  }
  next(err);
}

/**
 * Builds the planner from its settings (plannerSettingsFromEnv), initialised but not listening:
 * call `app.listen(port, host)` (port 0 for an ephemeral one in tests). Throws
 * RedisUnavailableError when Redis does not answer.
 */
export async function createPlannerApp(settings: PlannerSettings, opts: PlannerAppOptions = {}): Promise<INestApplication> {
  const redis = await connectPlannerRedis(settings.redis);
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(PlannerAppModule.forRoot({ settings, redis }), {
      logger: opts.logger ?? undefined,
      bodyParser: false,
      abortOnError: false,
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  // Order matters: the audit hook wraps every mutating call, including ones the body parser refuses.
  app.use(auditRecorder(app.get(AuditLog), new Logger('AuditRecorder')));
  app.useBodyParser('json', { limit: settings.bodyLimit });
  app.use(bodyErrorTranslator);
  setupOpenApi(app);
  await app.init();
  return app;
}
