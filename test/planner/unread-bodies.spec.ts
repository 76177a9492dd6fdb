import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlanner, TOKENS, type PlannerUnderTest } from './planner-harness';

/*
 * A request is authenticated on its headers: a refused one's body is never read (let alone
 * parsed), so a 60 MB body without a token costs the planner nothing. An authorized one is read
 * only up to its route's limit.
 */

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

interface Streamed {
  status: number;
  body: string;
  /** Bytes of the body the client had written when the answer's head arrived. */
  sentWhenAnswered: number;
  elapsedMs: number;
}

/** POSTs `total` bytes of a JSON-looking body (declared, or chunked when `declare` is false) as fast as the socket takes them. */
function streamBody(path: string, total: number, headers: Record<string, string>, declare = true): Promise<Streamed> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const req = request(`${p.base}${path}`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', ...(declare ? { 'content-length': String(total) } : {}), ...headers },
    });
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sentWhenAnswered, elapsedMs: Date.now() - started });
        req.destroy();
      });
    });
    // The planner closes the connection after refusing: writes after that fail, as they should.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.write('{"hosts":[');
    sent = 10;
    const pump = () => {
      while (!answered && sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('request bodies', () => {
  it('refuses a 60 MB body without a token before reading it: in bounded time and memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    const res = await streamBody('/v1/hosts:batch', 60 * 1024 * 1024, {});
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    // The answer came while most of the body was still to be sent: the planner did not wait for it.
    expect(res.sentWhenAnswered).toBeLessThan(16 * 1024 * 1024);
    expect(res.elapsedMs).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a body larger than the route takes with 413, declared or streamed, once over the limit', async () => {
    const auth = { authorization: `Bearer ${TOKENS.operator}` };
    const declared = await streamBody('/v1/hosts', 32 * 1024 * 1024, auth);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is larger than 1mb, the limit of this route' });
    expect(declared.sentWhenAnswered).toBeLessThan(16 * 1024 * 1024);

    const chunked = await streamBody('/v1/plans', 32 * 1024 * 1024, auth, false);
    expect(chunked.status).toBe(413);
    expect(chunked.sentWhenAnswered).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a compressed body or another charset with 415', async () => {
    const auth = { authorization: `Bearer ${TOKENS.operator}` };
    const gz = await fetch(`${p.base}/v1/hosts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'xx' });
    expect(gz.status).toBe(415);
    const latin = await fetch(`${p.base}/v1/hosts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset=latin1' }, body: '{}' });
    expect(latin.status).toBe(415);
    expect(((await latin.json()) as { message: string }).message).toMatch(/charset/);
  });
});
