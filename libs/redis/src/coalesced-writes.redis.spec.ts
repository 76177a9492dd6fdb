import { afterEach, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import type { Socket } from 'node:net';
import { coalesceWrites } from './coalesced-writes';
import { connectRedis } from './redis-connection';
import { TEST_REDIS_URL as URL } from '../../../test/support/redis-namespace';

const KEY = `luo-test-coalesce-${process.pid}`;

/** Writes that reach the socket's handle: one per command, or one for a corked batch. */
function countHandleWrites(socket: Socket): () => number {
  let n = 0;
  const s = socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = s._write;
  const writev = s._writev;
  s._write = function (...a: unknown[]) {
    n++;
    return write.apply(this, a);
  };
  s._writev = function (...a: unknown[]) {
    n++;
    return writev.apply(this, a);
  };
  return () => n;
}

async function ready(redis: IORedis): Promise<void> {
  await redis.ping();
}

describe('coalesceWrites (real Redis)', () => {
  const open: IORedis[] = [];
  afterEach(async () => {
    await open[0]?.del(KEY);
    await Promise.all(open.splice(0).map((r) => r.quit()));
  });

  async function sendBurst(redis: IORedis): Promise<{ writes: number; replies: number[] }> {
    const writes = countHandleWrites(redis.stream as Socket);
    // Fifty commands from one turn of the event loop, as fifty handovers woken by one answer send them.
    const replies = await Promise.all(Array.from({ length: 50 }, () => redis.incr(KEY)));
    return { writes: writes(), replies };
  }

  it('sends the commands of one event-loop turn in one write, answered one by one in order', async () => {
    const plain = connectRedis({ url: URL, prefix: 'p' });
    const coalesced = coalesceWrites(connectRedis({ url: URL, prefix: 'p' }));
    open.push(plain, coalesced);
    await Promise.all([ready(plain), ready(coalesced)]);

    const before = await sendBurst(plain);
    const after = await sendBurst(coalesced);
    expect(before.writes).toBeGreaterThan(1);
    expect(after.writes).toBe(1);
    expect(after.replies).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
  });

  it('keeps coalescing after a reconnect (a new socket)', async () => {
    const redis = coalesceWrites(connectRedis({ url: URL, prefix: 'p' }));
    open.push(redis);
    await ready(redis);
    const first = redis.stream;
    redis.disconnect(true);
    await ready(redis);
    expect(redis.stream).not.toBe(first);
    expect((await sendBurst(redis)).writes).toBe(1);
  });
});
