import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { PinoLogger } from './logging/pino-logger';
import { createPlannerApp } from './planner-app';
import { PlannerConfigError } from './planner-settings';
import { RedisUnavailableError } from './redis.module';
import type { PlannerSettings } from './planner-settings';

/** Errors a person can fix from the message alone: one line, no stack. */
function isOperatorError(err: unknown): err is Error {
  return err instanceof PlannerConfigError || err instanceof RedisUnavailableError;
}

async function main(): Promise<void> {
  const logger = new PinoLogger();
  const app = await createPlannerApp({ logger });
  // The tokens are hashed by now; keep the plaintext out of anything this process spawns or dumps.
  delete process.env.LUO_FLEET_TOKENS;
  app.enableShutdownHooks();
  const { port, host } = app.get(ConfigService).getOrThrow<PlannerSettings>('planner');
  await app.listen(port, host);
  logger.log(`planner listening on http://${host}:${port} (OpenAPI at /docs)`, 'Planner');
}

main().catch((err: unknown) => {
  if (isOperatorError(err)) {
    process.stderr.write(`luo-fleet planner: ${err.message}\n`);
    process.exit(err instanceof PlannerConfigError ? 2 : 1);
  }
  process.stderr.write(`luo-fleet planner: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
