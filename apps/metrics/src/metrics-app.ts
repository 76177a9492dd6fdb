import 'reflect-metadata';
import type { Server } from 'node:http';
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

/**
 * What one client can hold of the exporter, which serves small GETs to a scraper: a request (headers
 * and all) must arrive within 10 s, an idle kept-alive connection is closed after 5 s, at most 256
 * connections at once. Node checks the timeouts every 30 s, so they hold to within that.
 */
function limitServer(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxConnections = 256;
}

/** The exporter as a listening Nest HTTP app; used by main.ts and by tests that run it in-process. */
export async function createMetricsApp(
  options: MetricsAppOptions,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
): Promise<MetricsApp> {
  const app = await NestFactory.create(MetricsModule.forOptions(options), { logger: logLevels });
  limitServer(app.getHttpServer() as Server);
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  app.enableShutdownHooks();
  await app.listen(options.port, options.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}
