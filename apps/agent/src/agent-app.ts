import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AgentModule } from './agent.module';
import { signedRequests } from './auth/signed-requests';
import type { AgentConfig } from './config/agent-config';
import { AgentErrorFilter } from './http/agent-error.filter';
import { HostSteps } from './steps/host-steps';

export interface AgentApp {
  app: INestApplication;
  /** `http://host:port` actually listened on. */
  url: string;
  close(): Promise<void>;
}

/** The agent as a listening Nest HTTP app; main.ts runs it, tests may run it in-process. */
export async function createAgentApp(config: AgentConfig, secret: Buffer, logLevels: LogLevel[] = ['error', 'warn', 'log']): Promise<AgentApp> {
  const logger = new Logger('HostSteps');
  const steps = new HostSteps(config, (m) => logger.log(m));
  // No body parser: the signature covers the raw bytes, so the signature check reads them itself.
  const app = await NestFactory.create(AgentModule.forConfig(config, steps), { logger: logLevels, bodyParser: false });
  app.use(signedRequests(secret));
  app.useGlobalFilters(new AgentErrorFilter());
  app.enableShutdownHooks();
  await app.listen(config.listen.port, config.listen.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: `http://${host}:${address.port}`, close: () => app.close() };
}
