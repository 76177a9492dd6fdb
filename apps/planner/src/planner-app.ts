import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AuditLog } from './audit/audit-log';
import { auditRecorder } from './audit/audit-recorder';
import { RefusalLog } from './audit/refusal-log';
import { PlannerAppModule } from './app.module';
import { setupOpenApi } from './http/openapi';
import type { PlannerSettings } from './planner-settings';
import { connectPlannerRedis } from './redis.module';
import { PlannerHttpAdapter, SERVER_LIMITS, type ServerLimits } from './transport/http-server';

export interface PlannerAppOptions {
  /** False silences Nest's own logging (tests); default: Nest's console logger. */
  logger?: LoggerService | false;
  /** Server timeouts and connection cap; SERVER_LIMITS unless a test shortens them. */
  serverLimits?: Partial<ServerLimits>;
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
    const adapter = new PlannerHttpAdapter({ ...SERVER_LIMITS, ...opts.serverLimits }, settings.tls);
    app = await NestFactory.create<NestExpressApplication>(PlannerAppModule.forRoot({ settings, redis }), adapter, {
      logger: opts.logger ?? undefined,
      // Bodies are read after authentication, with each route's limit (transport/json-body.interceptor).
      bodyParser: false,
      abortOnError: false,
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  // Before the routes: the audit hook sees every answer, refusals and unknown routes included.
  app.use(auditRecorder(app.get(AuditLog), app.get(RefusalLog), new Logger('AuditRecorder')));
  setupOpenApi(app);
  await app.init();
  return app;
}
