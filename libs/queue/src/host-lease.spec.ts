import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { redisNamespace, type RedisNamespace } from '../../../test/support/redis-namespace';
import { FleetKeys } from './keys';
import { HostLease } from './host-lease';

describe('HostLease (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;

  beforeAll(() => {
    ns = redisNamespace('lease');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
  });

  afterAll(async () => {
    await ns.drop();
  });

  it('is held by one handover at a time, across rollouts, until released', async () => {
    const first = new HostLease(redis, keys, 'h1', 'r1', 30_000);
    const second = new HostLease(redis, keys, 'h1', 'r2', 30_000);
    expect(await first.acquire()).toBe(true);
    expect(await redis.get(keys.handoverLease('r1', 'h1'))).toBe(first.token);
    expect(await second.acquire()).toBe(false);
    await first.release();
    expect(await redis.exists(keys.handoverLease('r1', 'h1'))).toBe(0);
    expect(await second.acquire()).toBe(true);
    await second.release();
  });

  it('leaves the copy to the journal when asked, and renewing before it is installed is no loss', async () => {
    const lease = new HostLease(redis, keys, 'h2', 'r1', 30_000);
    expect(await lease.acquire({ copy: false })).toBe(true);
    expect(await redis.exists(keys.handoverLease('r1', 'h2'))).toBe(0);
    expect(await lease.renew()).toBe(true);
    expect(lease.isLost).toBe(false);
    // Another worker's token in the copy (it took the host over): lost.
    await redis.set(keys.handoverLease('r1', 'h2'), 'someone-else');
    expect(await lease.renew()).toBe(false);
    expect(lease.isLost).toBe(true);
    await lease.release();
  });

  it('is lost once the host lease is another token', async () => {
    const lease = new HostLease(redis, keys, 'h3', 'r1', 30_000);
    expect(await lease.acquire()).toBe(true);
    await redis.set(keys.hostLease('h3'), 'someone-else');
    expect(await lease.renew()).toBe(false);
    // Releasing must not free what another worker holds.
    await lease.release();
    expect(await redis.get(keys.hostLease('h3'))).toBe('someone-else');
  });
});
