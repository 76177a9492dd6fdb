import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { foldJournal, handoverIdOf, type JournalEntry } from '@luo-fleet/handover';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { FleetKeys } from '@luo-fleet/redis';
import { RedisHandoverJournal } from '../journal/redis-handover-journal';
import { compactFinishedRollout } from './rollout-retention';

const ROLLOUT = 'r-ret';
const HOSTS = ['h1', 'h2', 'h3', 'h4'];

/** A handover's journal as the machine writes it: steps, then (except for h4, still running) the outcome. */
function entriesOf(host: string, at: number): JournalEntry[] {
  const steps: JournalEntry[] = [
    { type: 'step_start', step: 'precheck', at },
    { type: 'validation', stage: 'precheck', at, counts: [{ result: 'preservable', reason: 'none', count: 2 }] },
    { type: 'step_end', step: 'precheck', at: at + 5, ok: true, durationMs: 5 },
    { type: 'step_start', step: 'kexec_load', at: at + 5 },
    { type: 'step_end', step: 'kexec_load', at: at + 9, ok: true, durationMs: 4 },
  ];
  if (host === 'h4') return steps;
  const outcome = host === 'h3' ? 'failed' : 'updated';
  return [...steps, { type: 'outcome', at: at + 10, outcome, reasons: [], ...(outcome === 'failed' ? { phase: 'kexec_load', error: 'x' } : {}) }];
}

describe('compactFinishedRollout', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;

  beforeAll(async () => {
    ns = redisNamespace('retention');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
    await redis.set(keys.rollout(ROLLOUT), JSON.stringify({ id: ROLLOUT }));
    await redis.hset(keys.admission(ROLLOUT), { status: 'running', inflight: 1, finished: 3 });
    await redis.hset(keys.plans(ROLLOUT), { h4: '{"plan":{}}' });
    for (const host of HOSTS) {
      const journal = new RedisHandoverJournal(redis, keys, ROLLOUT, host);
      const entries = entriesOf(host, 1_000);
      if (host === 'h2') {
        // As the machine writes: several entries per write, the outcome last in the last one.
        await journal.appendMany(handoverIdOf(ROLLOUT, host), entries.slice(0, 4));
        await journal.appendMany(handoverIdOf(ROLLOUT, host), entries.slice(4));
      } else {
        for (const e of entries) await journal.append(handoverIdOf(ROLLOUT, host), e);
      }
    }
  });

  afterAll(async () => {
    await ns.drop();
  });

  it('does nothing while the rollout is not finished', async () => {
    expect(await compactFinishedRollout(redis, keys, ROLLOUT)).toEqual({ compacted: false, hosts: 0, journalsTrimmed: 0 });
    expect(await redis.llen(keys.journal(ROLLOUT, 'h1'))).toBe(6);
  });

  it('keeps outcomes and counters, cuts the rest, and expires what is not kept for good', async () => {
    const statsBefore = await redis.hgetall(keys.stats(ROLLOUT));
    // A write per entry for h1, h3 and h4 (6 + 6 + 5), and two for h2.
    expect(await redis.xlen(keys.events(ROLLOUT))).toBe(19);
    await redis.hset(keys.admission(ROLLOUT), { finishedAt: 2_000, inflight: 0 });

    const result = await compactFinishedRollout(redis, keys, ROLLOUT, { eventsKeep: 5, ttlSeconds: 3_600, chunk: 2 });
    expect(result).toEqual({ compacted: true, hosts: 4, journalsTrimmed: 2 });

    for (const host of ['h1', 'h2', 'h3']) {
      const left = await new RedisHandoverJournal(redis, keys, ROLLOUT, host).load('');
      // h3 failed: its whole journal stays for the post-mortem.
      expect(left).toEqual(host === 'h3' ? entriesOf(host, 1_000) : [entriesOf(host, 1_000).at(-1)]);
      // What a resumed job or the coordinator's reconciliation reads: the outcome, as before.
      expect(foldJournal(left).outcome?.outcome).toBe(host === 'h3' ? 'failed' : 'updated');
      expect(await redis.ttl(keys.journal(ROLLOUT, host))).toBeGreaterThan(3_500);
    }
    // No outcome: not cut, still expires.
    expect(await redis.llen(keys.journal(ROLLOUT, 'h4'))).toBe(5);
    expect(await redis.ttl(keys.journal(ROLLOUT, 'h4'))).toBeGreaterThan(3_500);

    expect(await redis.exists(keys.plans(ROLLOUT))).toBe(0);
    // Per-state sets stay (paging hosts by state still works), with the expiry.
    expect(await redis.smembers(keys.hostStateSet(ROLLOUT, 'failed'))).toEqual(['h3']);
    expect(await redis.ttl(keys.hostStateSet(ROLLOUT, 'updated'))).toBeGreaterThan(3_500);
    expect(await redis.smembers(keys.hostStateSet(ROLLOUT, 'kexec_load'))).toEqual(['h4']);
    expect(await redis.ttl(keys.hostStateSet(ROLLOUT, 'kexec_load'))).toBeGreaterThan(3_500);
    expect(await redis.xlen(keys.events(ROLLOUT))).toBe(5);
    for (const key of [keys.events(ROLLOUT), keys.hostStates(ROLLOUT), keys.stateCounts(ROLLOUT)]) {
      expect(await redis.ttl(key)).toBeGreaterThan(3_500);
    }
    expect(await redis.hget(keys.hostStates(ROLLOUT), 'h3')).toBe('failed');

    // Kept for good, untouched.
    for (const key of [keys.stats(ROLLOUT), keys.rollout(ROLLOUT), keys.admission(ROLLOUT)]) expect(await redis.ttl(key)).toBe(-1);
    expect(await redis.hgetall(keys.stats(ROLLOUT))).toEqual(statsBefore);
  });

  it('can run again', async () => {
    expect(await compactFinishedRollout(redis, keys, ROLLOUT, { eventsKeep: 5, ttlSeconds: 3_600 })).toEqual({ compacted: true, hosts: 4, journalsTrimmed: 0 });
    expect(await redis.llen(keys.journal(ROLLOUT, 'h1'))).toBe(1);
    expect(await redis.llen(keys.journal(ROLLOUT, 'h2'))).toBe(1);
  });
});
