import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { PlannerTls } from '../planner-settings';
import { ExpressAdapter } from '@nestjs/platform-express';
import { securityHeaders } from './security-headers';

/** How long and how many: what one client can hold of the planner's HTTP server. */
export interface ServerLimits {
  /** From connection to the end of the request's headers (a slow-headers client is cut off). */
  headersTimeoutMs: number;
  /** From connection to the end of the request's body: a body trickled a byte a second is cut off then. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections at once; more are refused at accept. */
  maxConnections: number;
  /** How often Node checks the two timeouts above: they hold to within this. */
  checkIntervalMs: number;
}

/**
 * Headers come in milliseconds from any real client; a full 64 MB batch arrives in 30 s at ~17
 * Mbit/s. A long-running request (a batch that reads 1,000 agents) is not cut: the timeouts end
 * when the request has arrived, not when it is answered.
 */
export const SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  checkIntervalMs: 1_000,
};

/**
 * Nest's Express adapter with the server made under SERVER_LIMITS, no X-Powered-By, and the
 * security headers set on every answer before anything else runs. With `tls` the server is HTTPS
 * only (TLS 1.2 or later).
 */
export class PlannerHttpAdapter extends ExpressAdapter {
  constructor(
    private readonly limits: ServerLimits = SERVER_LIMITS,
    private readonly tls?: PlannerTls,
  ) {
    super();
    const express = this.getInstance<{ disable(setting: string): void; use(fn: typeof securityHeaders): void }>();
    express.disable('x-powered-by');
    express.use(securityHeaders);
  }

  override initHttpServer(): void {
    const options = {
      headersTimeout: this.limits.headersTimeoutMs,
      requestTimeout: this.limits.requestTimeoutMs,
      keepAliveTimeout: this.limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: this.limits.checkIntervalMs,
    };
    const server: Server = this.tls
      ? createTlsServer({ ...options, cert: this.tls.cert, key: this.tls.key, minVersion: 'TLSv1.2' }, this.getInstance())
      : createServer(options, this.getInstance());
    server.maxConnections = this.limits.maxConnections;
    this.setHttpServer(server);
  }
}
