import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type INestApplication, type LogLevel, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AgentModule } from './agent.module';
import { signedRequests } from './auth/signed-requests';
import type { AgentConfig, HttpLimits } from './config/agent-config';
import { AgentErrorFilter } from './http/agent-error.filter';
import { responseHeaders } from './http/response-headers';
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
  const app = await NestFactory.create(AgentModule.forConfig(config, steps), {
    logger: logLevels,
    bodyParser: false,
    ...(config.tls ? { httpsOptions: mutualTls(config.tls) } : {}),
  });
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  app.use(responseHeaders);
  app.use(signedRequests(secret, config.http));
  app.useGlobalFilters(new AgentErrorFilter());
  app.enableShutdownHooks();
  limitServer(app.getHttpServer() as Server, config.http);
  await app.listen(config.listen.port, config.listen.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: `${config.tls ? 'https' : 'http'}://${host}:${address.port}`, close: () => app.close() };
}

/** Only clients whose certificate the configured CA signed complete the handshake; the HMAC signature is still required. */
function mutualTls(tls: NonNullable<AgentConfig['tls']>): NestApplicationOptions['httpsOptions'] {
  const read = (field: keyof typeof tls) => {
    try {
      return readFileSync(tls[field]);
    } catch (err) {
      throw new Error(`tls.${field}: cannot read ${tls[field]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  return { cert: read('certFile'), key: read('keyFile'), ca: read('clientCaFile'), requestCert: true, rejectUnauthorized: true };
}

/**
 * Node's own guards, before the first connection: headers must arrive in time, an idle kept-alive
 * connection is closed, and connections past the cap are refused. The body's limits are the
 * middleware's (request-body.ts); a running step's answer may take as long as its hook, so no
 * timeout applies once the request is read.
 */
function limitServer(server: Server, limits: HttpLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // Node's requestTimeout would count from the start of the request to its end; the body's own
  // timeouts bound that already, and this one must not be shorter than headersTimeout.
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}
