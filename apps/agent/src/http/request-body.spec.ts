import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan, readRequestBody } from './request-body';

const limits = { maxBodyBytes: 1024, bodyTimeoutMs: 1_000, bodyIdleMs: 300 };

describe('nestsDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(nestsDeeperThan(Buffer.from('{"a":[{"b":[1]}]}'), 4)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":[{"b":[1]}]}'), 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.from('{"a":"[[[[[[\\"[[[["}'), 1)).toBe(false);
    expect(nestsDeeperThan(Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), 32)).toBe(true);
  });
});

describe('readRequestBody', () => {
  const request = () => new PassThrough() as unknown as IncomingMessage & PassThrough;

  it('reads a body whole', async () => {
    const req = request();
    const read = readRequestBody(req, limits);
    req.end('{"a":1}');
    expect(await read).toEqual({ ok: true, raw: Buffer.from('{"a":1}') });
  });

  it('stops at the size limit, at silence, and at the total time', async () => {
    const big = request();
    const tooLarge = readRequestBody(big, limits);
    big.write(Buffer.alloc(2048));
    expect(await tooLarge).toMatchObject({ ok: false, status: 413 });

    const silent = request();
    const idle = readRequestBody(silent, limits);
    silent.write('{');
    expect(await idle).toMatchObject({ ok: false, status: 408, problem: 'no body bytes for 300 ms' });

    const trickle = request();
    const slow = readRequestBody(trickle, limits);
    const timer = setInterval(() => trickle.write(' '), 100);
    const started = Date.now();
    expect(await slow).toMatchObject({ ok: false, status: 408, problem: 'the body took longer than 1000 ms' });
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
