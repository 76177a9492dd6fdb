import 'reflect-metadata';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';
import { loadWorkerConfig, WorkerConfigError, type WorkerConfig } from './worker-config';

/** LOG_LEVEL as Nest's level list: each level includes the ones more severe than it. */
const NEST_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const UP_TO: Record<Exclude<WorkerConfig['LOG_LEVEL'], 'silent'>, LogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'log',
  debug: 'debug',
  trace: 'verbose',
};

function nestLogLevels(level: WorkerConfig['LOG_LEVEL']): LogLevel[] | false {
  if (level === 'silent') return false;
  return NEST_LEVELS.slice(0, NEST_LEVELS.indexOf(UP_TO[level]) + 1);
}

async function bootstrap(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(process.env);
  } catch (err) {
    if (!(err instanceof WorkerConfigError)) throw err;
    process.stderr.write(`luo-fleet worker: ${err.message}\n`);
    process.exit(2);
  }
  // A line per finished handover at info is noise (and CPU) at thousands of handovers a second.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: false, logger: nestLogLevels(config.LOG_LEVEL) });
  // SIGTERM/SIGINT close the BullMQ worker gracefully: active handovers finish their step first.
  app.enableShutdownHooks();
}

void bootstrap();
