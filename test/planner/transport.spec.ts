import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_LIMITS } from '../../apps/planner/src/transport/http-server';
import { requestFrom } from './raw-http';
import { startPlanner, TOKENS, type PlannerUnderTest } from './planner-harness';

/*
 * What one client can hold of the planner: a request must arrive in bounded time (headers, then
 * body), connections are capped, failed authentications are budgeted per address, and every answer
 * carries the security headers.
 */

let p: PlannerUnderTest;
const LIMITS = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000, maxConnections: 6, checkIntervalMs: 100 };
beforeAll(async () => {
  p = await startPlanner({}, { serverLimits: LIMITS });
});
afterAll(async () => p?.close());

const port = () => Number(new URL(p.base).port);

/** A raw connection; resolves its close with the time it took and what the planner sent. */
function open(): { socket: Socket; closed: Promise<{ afterMs: number; received: string }> } {
  const started = Date.now();
  const socket = connect(port(), '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (received += c));
  socket.on('error', () => undefined);
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) => socket.on('close', () => resolve({ afterMs: Date.now() - started, received })));
  return { socket, closed };
}

describe('server limits', () => {
  it('are under a minute by default', () => {
    expect(SERVER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(SERVER_LIMITS.requestTimeoutMs);
    expect(SERVER_LIMITS.requestTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(SERVER_LIMITS.checkIntervalMs).toBeLessThanOrEqual(1_000);
  });

  it('cut off a body trickled a byte at a time once the request timeout passes', async () => {
    const { socket, closed } = open();
    socket.write(`POST /v1/hosts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.operator}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write('{'), 100);
    const { afterMs, received } = await closed;
    clearInterval(trickle);
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 100);
    expect(afterMs).toBeLessThan(LIMITS.requestTimeoutMs + 1_000);
    expect(received).toMatch(/^HTTP\/1.1 408/);
  });

  it('cut off headers trickled a byte at a time once the headers timeout passes', async () => {
    const { socket, closed } = open();
    socket.write('GET /v1/hosts HTTP/1.1\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X'), 100);
    const { afterMs } = await closed;
    clearInterval(trickle);
    expect(afterMs).toBeLessThan(LIMITS.headersTimeoutMs + 1_000);
  });

  it('refuse connections beyond the cap', async () => {
    const held = Array.from({ length: LIMITS.maxConnections }, () => open());
    await new Promise((r) => setTimeout(r, 100));
    const extra = open();
    const { afterMs, received } = await extra.closed;
    expect(afterMs).toBeLessThan(500);
    expect(received).toBe('');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    expect((await p.call('GET', '/health', { as: 'none' })).status).toBe(200);
  });
});

describe('failed authentication', () => {
  it('is answered 429 after a burst from one address, whatever token comes next; other addresses are not affected', async () => {
    const wrong = { authorization: 'Bearer not-a-token-of-anyone' };
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await requestFrom('127.0.0.3', p.base, 'GET', '/v1/hosts', wrong)).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses[20]).toBe(429);
    const valid = await requestFrom('127.0.0.3', p.base, 'GET', '/v1/hosts', { authorization: `Bearer ${TOKENS.viewer}` });
    expect(valid.status).toBe(429);
    expect(Number(valid.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(valid.body)).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect((await requestFrom('127.0.0.4', p.base, 'GET', '/v1/hosts', { authorization: `Bearer ${TOKENS.viewer}` })).status).toBe(200);
    const refusals = (await p.call('GET', '/v1/audit/refusals?limit=5')).body;
    expect(refusals.entries[0]).toMatchObject({ reason: 'rate-limited', client: '127.0.0.3', status: 429 });
  });
});

describe('security headers', () => {
  it('are on every answer, and X-Powered-By is not', async () => {
    for (const [path, as] of [['/health', 'none'], ['/v1/hosts', 'viewer'], ['/v1/nothing', 'viewer'], ['/v1/hosts', 'none']] as const) {
      const res = await p.call('GET', path, { as });
      expect(res.headers.get('x-powered-by'), path).toBeNull();
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toMatch(/^default-src 'none';.*frame-ancestors 'none'/);
    }
    const docs = await fetch(`${p.base}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });
});
