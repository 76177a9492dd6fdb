import 'reflect-metadata';
import { PinoLogger } from './logging/pino-logger';
import { createPlannerApp } from './planner-app';
import { PlannerConfigError, plannerSettingsFromEnv, type PlannerSettings } from './planner-settings';
import { RedisUnavailableError } from './redis.module';

/** Errors a person can fix from the message alone: one line, no stack. */
function isOperatorError(err: unknown): err is Error {
  return err instanceof PlannerConfigError || err instanceof RedisUnavailableError;
}

async function main(): Promise<void> {
  const settings: PlannerSettings = plannerSettingsFromEnv(process.env);
  // The tokens are hashed by now; keep the plaintext out of anything this process spawns or dumps.
  delete process.env.LUO_FLEET_TOKENS;
  const logger = new PinoLogger(settings.logLevel);
  const app = await createPlannerApp(settings, { logger });
  app.enableShutdownHooks();
  await app.listen(settings.port, settings.host);
  logger.log(`planner listening on ${settings.tls ? 'https' : 'http'}://${settings.host}:${settings.port} (OpenAPI at /docs)`, 'Planner');
}

main().catch((err: unknown) => {
  if (isOperatorError(err)) {
    process.stderr.write(`luo-fleet planner: ${err.message}\n`);
    process.exit(err instanceof PlannerConfigError ? 2 : 1);
  }
  process.stderr.write(`luo-fleet planner: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
