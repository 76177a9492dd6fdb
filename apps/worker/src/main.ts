import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';
import { loadWorkerConfig } from './worker-config';

async function bootstrap(): Promise<void> {
  try {
    loadWorkerConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: false });
  // SIGTERM/SIGINT close the BullMQ worker gracefully: active handovers finish their step first.
  app.enableShutdownHooks();
}

void bootstrap();
