import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MetricsAppOptions } from './metrics-config';
import { MetricsModule } from './metrics.module';

export interface MetricsApp {
  app: INestApplication;
  /** `http://host:port` actually listened on (port 0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

/** The exporter as a listening Nest HTTP app; used by main.ts and by tests that run it in-process. */
export async function createMetricsApp(
  options: MetricsAppOptions,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
): Promise<MetricsApp> {
  const app = await NestFactory.create(MetricsModule.forOptions(options), { logger: logLevels });
  app.enableShutdownHooks();
  await app.listen(options.port, options.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}
