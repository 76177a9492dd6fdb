import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { FleetKeys } from '@luo-fleet/redis';
import { HostLease, HostLeaseBatch } from './host-lease';
import { countScriptRuns } from '../../../../test/support/script-runs';

describe('HostLease (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;
  let leaseBatch: HostLeaseBatch;

  beforeAll(() => {
    ns = redisNamespace('lease');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
    leaseBatch = new HostLeaseBatch(redis);
  });

  afterAll(async () => {
    await ns.drop();
  });

  it('is held by one handover at a time, across rollouts, until released', async () => {
    const first = new HostLease(redis, keys, 'h1', 'r1', 30_000, leaseBatch);
    const second = new HostLease(redis, keys, 'h1', 'r2', 30_000, leaseBatch);
    expect(await first.acquire()).toBe(true);
    expect(await redis.get(keys.hostLease('h1'))).toBe(first.token);
    expect(await second.acquire()).toBe(false);
    // The journal's first read installs the rollout's copy; releasing drops it too.
    await redis.set(keys.handoverLease('r1', 'h1'), first.token);
    await first.release();
    expect(await redis.exists(keys.hostLease('h1'), keys.handoverLease('r1', 'h1'))).toBe(0);
    expect(await second.acquire()).toBe(true);
    await second.release();
  });

  it('leaves the copy to the journal, and renewing before it is installed is no loss', async () => {
    const lease = new HostLease(redis, keys, 'h2', 'r1', 30_000, leaseBatch);
    expect(await lease.acquire()).toBe(true);
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
    const lease = new HostLease(redis, keys, 'h3', 'r1', 30_000, leaseBatch);
    expect(await lease.acquire()).toBe(true);
    await redis.set(keys.hostLease('h3'), 'someone-else');
    expect(await lease.renew()).toBe(false);
    // Releasing must not free what another worker holds.
    await lease.release();
    expect(await redis.get(keys.hostLease('h3'))).toBe('someone-else');
  });

  it('takes and gives back the leases of one turn in one script run, one holder per host', async () => {
    const batch = new HostLeaseBatch(redis);
    const leases = ['b1', 'b2', 'b3'].map((h) => new HostLease(redis, keys, h, 'r1', 30_000, batch));
    const rival = new HostLease(redis, keys, 'b1', 'r2', 30_000, batch);
    const scripts = countScriptRuns(redis);
    try {
      const taken = await Promise.all([...leases, rival].map((l) => l.acquire()));
      expect(scripts.count).toBe(1);
      expect(taken).toEqual([true, true, true, false]);
    } finally {
      scripts.restore();
    }
    expect(await redis.get(keys.hostLease('b1'))).toBe(leases[0].token);
    expect(await redis.pttl(keys.hostLease('b1'))).toBeGreaterThan(25_000);
    // A take sent again by the holder (a resend after a lost answer) still holds.
    expect(await batch.take(keys.hostLease('b2'), leases[1].token, 30_000)).toBe(true);
    // Giving back frees only what this token holds.
    await rival.release();
    expect(await redis.get(keys.hostLease('b1'))).toBe(leases[0].token);
    await Promise.all(leases.map((l) => l.release()));
    expect(await redis.exists(keys.hostLease('b1'), keys.hostLease('b2'), keys.hostLease('b3'))).toBe(0);
  });
});
