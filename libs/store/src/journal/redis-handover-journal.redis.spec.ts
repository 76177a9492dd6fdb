import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { handoverIdOf, JournalFencedError, type JournalEntry } from '@luo-fleet/handover';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { FleetKeys } from '@luo-fleet/redis';
import { journalEntriesOf, lastEntryOf, RedisHandoverJournal } from './redis-handover-journal';

const ROLLOUT = 'r-journal';

describe('RedisHandoverJournal (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;

  beforeAll(async () => {
    ns = redisNamespace('journal');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
    // A running rollout with two hosts admitted in rack r1 and a budget of one failure.
    await redis.hset(keys.admission(ROLLOUT), { status: 'running', inflight: 2, finished: 0, failures: 0, maxFailures: 1 });
    await redis.zadd(keys.admitted(ROLLOUT), 1, 'h1', 1, 'h2');
    await redis.hset(keys.hostDomains(ROLLOUT), { h1: 'r1', h2: 'r1' });
    await redis.hset(keys.domainInflight(ROLLOUT), { r1: 2 });
    await redis.hset(keys.plans(ROLLOUT), { h1: '{}', h2: '{}' });
  });

  afterAll(async () => {
    await ns.drop();
  });

  async function leased(host: string): Promise<RedisHandoverJournal> {
    const token = randomBytes(8).toString('hex');
    await redis.set(keys.handoverLease(ROLLOUT, host), token);
    return new RedisHandoverJournal(redis, keys, ROLLOUT, host, { leaseToken: token, countOutcomes: true });
  }

  it('writes several entries in one script, in order, with one stream entry holding them', async () => {
    const journal = await leased('h1');
    const entries: JournalEntry[] = [
      { type: 'step_start', step: 'precheck', at: 1 },
      { type: 'step_end', step: 'precheck', at: 2, ok: true, durationMs: 1 },
      { type: 'step_start', step: 'kexec_load', at: 2 },
    ];
    await journal.appendMany(handoverIdOf(ROLLOUT, 'h1'), entries);
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h1'))).toEqual(entries);
    const events = await redis.xrange(keys.events(ROLLOUT), '-', '+');
    // One stream entry per write: the host, the handover and its entries, a JSON each per line.
    expect(events.map(([, f]) => f)).toEqual([['host', 'h1', 'handover', handoverIdOf(ROLLOUT, 'h1'), 'entries', entries.map((e) => JSON.stringify(e)).join('\n')]]);
    expect(await redis.hget(keys.hostStates(ROLLOUT), 'h1')).toBe('kexec_load');
    expect(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count')).toBe('1');
    expect(journal.outcomeCount).toBeUndefined();
  });

  it('keeps a write as one list element, and reads journals written an entry per element as before', async () => {
    const journal = await leased('h7');
    const older: JournalEntry[] = [
      { type: 'step_start', step: 'precheck', at: 1 },
      { type: 'step_end', step: 'precheck', at: 2, ok: true, durationMs: 1 },
    ];
    // A journal an earlier version wrote: one entry per element.
    await redis.rpush(keys.journal(ROLLOUT, 'h7'), ...older.map((e) => JSON.stringify(e)));
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h7'))).toEqual(older);
    const next: JournalEntry[] = [
      { type: 'step_start', step: 'kexec_load', at: 3 },
      { type: 'step_end', step: 'kexec_load', at: 4, ok: true, durationMs: 1 },
    ];
    // The write after it expects the two elements it found, and adds one.
    await journal.appendMany(handoverIdOf(ROLLOUT, 'h7'), next);
    expect(await redis.llen(keys.journal(ROLLOUT, 'h7'))).toBe(3);
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h7'))).toEqual([...older, ...next]);
    expect(journalEntriesOf(await redis.lrange(keys.journal(ROLLOUT, 'h7'), 0, -1))).toEqual([...older, ...next]);
    expect(lastEntryOf(await redis.lindex(keys.journal(ROLLOUT, 'h7'), -1) ?? '')).toBe(JSON.stringify(next[1]));
  });

  it('counts an outcome in the rollout with the entry that records it, once, and then refuses more appends', async () => {
    const journal = await leased('h1');
    await journal.append(handoverIdOf(ROLLOUT, 'h1'), { type: 'outcome', at: 3, outcome: 'rolled_back', phase: 'kexec_load', reasons: [] });
    expect(journal.outcomeCount).toBe('first');
    expect(journal.leaseCopyDropped).toBe(true);
    const adm = await redis.hgetall(keys.admission(ROLLOUT));
    expect(adm).toMatchObject({ inflight: '1', finished: '1', failures: '1', status: 'running' });
    expect(await redis.hget(keys.domainInflight(ROLLOUT), 'r1')).toBe('1');
    expect(await redis.sismember(keys.done(ROLLOUT), 'h1')).toBe(1);
    expect(JSON.parse((await redis.hget(keys.results(ROLLOUT), 'h1'))!)).toMatchObject({ outcome: 'rolled_back', phase: 'kexec_load' });
    expect(await redis.hexists(keys.plans(ROLLOUT), 'h1')).toBe(0);
    // The lease's copy went with the outcome: nothing may follow it.
    expect(await redis.exists(keys.handoverLease(ROLLOUT, 'h1'))).toBe(0);
    await expect(journal.append(handoverIdOf(ROLLOUT, 'h1'), { type: 'step_start', step: 'thaw', at: 4 })).rejects.toBeInstanceOf(JournalFencedError);

    // A re-run job that writes the outcome again is not counted twice.
    const again = await leased('h1');
    await again.append(handoverIdOf(ROLLOUT, 'h1'), { type: 'outcome', at: 5, outcome: 'rolled_back', phase: 'kexec_load', reasons: [] });
    expect(again.outcomeCount).toBe('again');
    expect(await redis.hget(keys.admission(ROLLOUT), 'failures')).toBe('1');
  });

  it('halts the rollout when the outcome exceeds the failure budget', async () => {
    const journal = await leased('h2');
    await journal.append(handoverIdOf(ROLLOUT, 'h2'), { type: 'outcome', at: 6, outcome: 'failed', phase: 'retrieve', reasons: ['NOT_INCOMING'] });
    expect(journal.outcomeCount).toBe('first');
    expect(await redis.hgetall(keys.admission(ROLLOUT))).toMatchObject({ inflight: '0', failures: '2', status: 'halted' });
  });

  it('refuses an append once another worker holds the lease, writing nothing', async () => {
    const journal = await leased('h3');
    await leased('h3'); // another worker took the host over
    await expect(journal.append(handoverIdOf(ROLLOUT, 'h3'), { type: 'step_start', step: 'precheck', at: 7 })).rejects.toBeInstanceOf(JournalFencedError);
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h3'))).toEqual([]);
  });

  it('refuses an append to a journal with writes once the lease is gone, leaving those writes as they were', async () => {
    const journal = await leased('h8');
    // Read first, as a worker does: its writes then name the length they expect.
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h8'))).toEqual([]);
    const first: JournalEntry = { type: 'step_start', step: 'kexec_load', at: 7 };
    await journal.append(handoverIdOf(ROLLOUT, 'h8'), first);
    const events = await redis.xlen(keys.events(ROLLOUT));
    await redis.set(keys.handoverLease(ROLLOUT, 'h8'), 'another-worker');
    await expect(journal.append(handoverIdOf(ROLLOUT, 'h8'), { type: 'step_start', step: 'preserve', at: 8 })).rejects.toBeInstanceOf(JournalFencedError);
    expect(await redis.lrange(keys.journal(ROLLOUT, 'h8'), 0, -1)).toEqual([JSON.stringify(first)]);
    expect(await redis.xlen(keys.events(ROLLOUT))).toBe(events);
    expect(await redis.hget(keys.hostStates(ROLLOUT), 'h8')).toBe('kexec_load');
  });

  it('lands a write sent twice (a client resending after a lost answer) once, and refuses a write on a journal that changed', async () => {
    const token = randomBytes(8).toString('hex');
    await redis.set(keys.handoverLease(ROLLOUT, 'h4'), token);
    const first = new RedisHandoverJournal(redis, keys, ROLLOUT, 'h4', { leaseToken: token });
    const resent = new RedisHandoverJournal(redis, keys, ROLLOUT, 'h4', { leaseToken: token });
    await first.load(handoverIdOf(ROLLOUT, 'h4'));
    await resent.load(handoverIdOf(ROLLOUT, 'h4'));
    const write: JournalEntry[] = [
      { type: 'step_start', step: 'precheck', at: 10 },
      { type: 'step_end', step: 'precheck', at: 11, ok: true, durationMs: 1 },
    ];
    const before = Number(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count'));
    const events = await redis.xlen(keys.events(ROLLOUT));
    await first.appendMany(handoverIdOf(ROLLOUT, 'h4'), write);
    await resent.appendMany(handoverIdOf(ROLLOUT, 'h4'), write);
    expect(await first.load(handoverIdOf(ROLLOUT, 'h4'))).toEqual(write);
    expect(Number(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count'))).toBe(before + 1);
    expect(await redis.xlen(keys.events(ROLLOUT))).toBe(events + 1);
    // Both go on from the same length; a different write from a stale view is refused, and writes nothing.
    await resent.append(handoverIdOf(ROLLOUT, 'h4'), { type: 'step_start', step: 'kexec_load', at: 12 });
    await expect(first.append(handoverIdOf(ROLLOUT, 'h4'), { type: 'step_start', step: 'preserve', at: 13 })).rejects.toThrow(/changed under this worker/);
    expect((await first.load(handoverIdOf(ROLLOUT, 'h4'))).map((e) => e.type === 'step_start' && e.step)).toEqual(['precheck', false, 'kexec_load']);
  });

  it('installs the lease copy with its first read when asked, so the next write is accepted', async () => {
    const entry: JournalEntry = { type: 'step_start', step: 'precheck', at: 20 };
    // Without the copy (a plain read), the write is fenced off.
    await expect(new RedisHandoverJournal(redis, keys, ROLLOUT, 'h6', { leaseToken: 'mine' }).append(handoverIdOf(ROLLOUT, 'h6'), entry)).rejects.toBeInstanceOf(JournalFencedError);
    const journal = new RedisHandoverJournal(redis, keys, ROLLOUT, 'h6', { leaseToken: 'mine', installLeaseCopyMs: 30_000 });
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h6'))).toEqual([]);
    expect(await redis.get(keys.handoverLease(ROLLOUT, 'h6'))).toBe('mine');
    const ttl = await redis.pttl(keys.handoverLease(ROLLOUT, 'h6'));
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await journal.append(handoverIdOf(ROLLOUT, 'h6'), entry);
    expect(await journal.load(handoverIdOf(ROLLOUT, 'h6'))).toEqual([entry]);
  });

  it('takes `empty` as the length a first write expects', async () => {
    const outcome: JournalEntry = { type: 'outcome', at: 14, outcome: 'cancelled', reasons: [] };
    await new RedisHandoverJournal(redis, keys, ROLLOUT, 'h5', { empty: true }).append(handoverIdOf(ROLLOUT, 'h5'), outcome);
    // Sent again: lands once.
    await new RedisHandoverJournal(redis, keys, ROLLOUT, 'h5', { empty: true }).append(handoverIdOf(ROLLOUT, 'h5'), outcome);
    expect(await redis.llen(keys.journal(ROLLOUT, 'h5'))).toBe(1);
    await expect(new RedisHandoverJournal(redis, keys, ROLLOUT, 'h5', { empty: true }).append(handoverIdOf(ROLLOUT, 'h5'), { ...outcome, at: 15 })).rejects.toThrow(/changed under this worker/);
  });

  it('reports an outcome outside any rollout as such', async () => {
    const token = 't';
    await redis.set(keys.handoverLease('no-rollout', 'h9'), token);
    const journal = new RedisHandoverJournal(redis, keys, 'no-rollout', 'h9', { leaseToken: token, countOutcomes: true });
    await journal.append('no-rollout.h9', { type: 'outcome', at: 8, outcome: 'updated', reasons: [] });
    expect(journal.outcomeCount).toBe('no-rollout');
  });
  it('counts an outcome it finds on reading (an earlier run wrote it uncounted), once', async () => {
    const FOUND = 'r-found';
    await redis.hset(keys.admission(FOUND), { status: 'running', inflight: 1, finished: 0, failures: 0, maxFailures: 5 });
    await redis.zadd(keys.admitted(FOUND), 1, 'f1');
    const outcome: JournalEntry = { type: 'outcome', at: 30, outcome: 'updated', reasons: [] };
    const writer = new RedisHandoverJournal(redis, keys, FOUND, 'f1', { empty: true });
    await writer.append(handoverIdOf(FOUND, 'f1'), outcome);
    expect(writer.outcomeCount).toBeUndefined();
    expect(await redis.hget(keys.admission(FOUND), 'finished')).toBe('0');

    const reader = new RedisHandoverJournal(redis, keys, FOUND, 'f1', { countOutcomes: true });
    expect(await reader.load(handoverIdOf(FOUND, 'f1'))).toEqual([outcome]);
    expect(reader.outcomeCount).toBe('first');
    expect(reader.leaseCopyDropped).toBe(false);
    expect(await redis.hgetall(keys.admission(FOUND))).toMatchObject({ inflight: '0', finished: '1' });
    expect(JSON.parse((await redis.hget(keys.results(FOUND), 'f1'))!)).toEqual({ outcome: 'updated', reasons: [] });

    const again = new RedisHandoverJournal(redis, keys, FOUND, 'f1', { countOutcomes: true });
    await again.load(handoverIdOf(FOUND, 'f1'));
    expect(again.outcomeCount).toBe('again');
    expect(await redis.hget(keys.admission(FOUND), 'finished')).toBe('1');
  });
});
