import type { Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createMetricsApp } from './metrics-app-under-test';

describe('metrics exporter HTTP server', () => {
  it('bounds how long a request may take to arrive and how many connections are held, and sends no X-Powered-By', async () => {
    const app = await createMetricsApp({ redis: { url: 'redis://127.0.0.1:1', prefix: 'luo-limits' }, host: '127.0.0.1', port: 0, redisTimeoutMs: 300 }, ['error']);
    try {
      const server = app.app.getHttpServer() as Server;
      expect(server.headersTimeout).toBeLessThanOrEqual(10_000);
      expect(server.requestTimeout).toBeLessThanOrEqual(10_000);
      expect(server.keepAliveTimeout).toBeLessThanOrEqual(5_000);
      expect(server.maxConnections).toBeGreaterThan(0);
      const res = await fetch(`${app.url}/metrics`);
      expect(res.headers.get('x-powered-by')).toBeNull();
    } finally {
      await app.close();
    }
  });
});
