import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { handoverIdOf, JournalFencedError, type JournalEntry } from '@luo-fleet/handover';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { FleetKeys } from '@luo-fleet/redis';
import { RedisHandoverJournal } from './redis-handover-journal';
import { JournalGroupCommit } from './journal-group-commit';
import { runJournalWrites, type JournalWrite } from './journal-writes';
import { countScriptRuns } from '../../../../test/support/script-runs';

const ROLLOUT = 'r-group';

describe('JournalGroupCommit (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;

  beforeAll(() => {
    ns = redisNamespace('group-commit');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
  });

  afterAll(async () => {
    await ns.drop();
  });

  async function leased(host: string, groupCommit: JournalGroupCommit): Promise<RedisHandoverJournal> {
    await redis.set(keys.handoverLease(ROLLOUT, host), `token-${host}`);
    const journal = new RedisHandoverJournal(redis, keys, ROLLOUT, host, { leaseToken: `token-${host}`, groupCommit });
    await journal.load(handoverIdOf(ROLLOUT, host));
    return journal;
  }

  const precheckDone = (at: number): JournalEntry[] => [
    { type: 'step_end', step: 'precheck', at, ok: true, durationMs: 2 },
    { type: 'step_start', step: 'kexec_load', at },
  ];

  it('sends the writes of one turn as one script run; each lands in its own journal with its counts', async () => {
    const group = new JournalGroupCommit(redis, keys);
    const hosts = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const journals = await Promise.all(hosts.map((h) => leased(h, group)));
    const scripts = countScriptRuns(redis);
    try {
      await Promise.all(journals.map((j, i) => j.appendMany(handoverIdOf(ROLLOUT, hosts[i]), precheckDone(100 + i))));
      expect(scripts.count).toBe(1);
    } finally {
      scripts.restore();
    }
    for (const [i, h] of hosts.entries()) {
      expect(await journals[i].load(handoverIdOf(ROLLOUT, h))).toEqual(precheckDone(100 + i));
      expect(await redis.hget(keys.hostStates(ROLLOUT), h)).toBe('kexec_load');
    }
    // The five counts of one bucket were summed into one increment, and none was lost.
    expect(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count')).toBe('5');
    expect(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|sum_us')).toBe('10000');
    expect(await redis.hget(keys.stateCounts(ROLLOUT), 'kexec_load')).toBe('5');
    expect(await redis.xlen(keys.events(ROLLOUT))).toBe(5);
  });

  it('fences one write of a group without touching the others', async () => {
    const group = new JournalGroupCommit(redis, keys);
    const [mine, stolen] = await Promise.all([leased('b1', group), leased('b2', group)]);
    await redis.set(keys.handoverLease(ROLLOUT, 'b2'), 'another-worker');
    const before = Number(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count'));
    const [ok, fenced] = await Promise.allSettled([mine.appendMany(handoverIdOf(ROLLOUT, 'b1'), precheckDone(1)), stolen.appendMany(handoverIdOf(ROLLOUT, 'b2'), precheckDone(1))]);
    expect(ok.status).toBe('fulfilled');
    expect(fenced.status === 'rejected' && fenced.reason).toBeInstanceOf(JournalFencedError);
    // One write, one element of the journal list, both its entries in it.
    expect(await redis.llen(keys.journal(ROLLOUT, 'b1'))).toBe(1);
    expect(await mine.load(handoverIdOf(ROLLOUT, 'b1'))).toEqual(precheckDone(1));
    expect(await redis.llen(keys.journal(ROLLOUT, 'b2'))).toBe(0);
    // Only the write that landed is counted.
    expect(Number(await redis.hget(keys.stats(ROLLOUT), 'p|precheck|count'))).toBe(before + 1);
  });

  it('reads the journals of handovers starting in one turn in one script run, installing each lease copy', async () => {
    const group = new JournalGroupCommit(redis, keys);
    const written = await leased('f1', group);
    await written.appendMany(handoverIdOf(ROLLOUT, 'f1'), precheckDone(5));
    await redis.del(keys.handoverLease(ROLLOUT, 'f1'));
    const journals = ['f1', 'f2'].map(
      (h) => new RedisHandoverJournal(redis, keys, ROLLOUT, h, { leaseToken: `new-${h}`, installLeaseCopyMs: 20_000, groupCommit: group }),
    );
    const scripts = countScriptRuns(redis);
    let read: JournalEntry[][];
    try {
      read = await Promise.all(journals.map((j, i) => j.load(`${ROLLOUT}.f${i + 1}`)));
      expect(scripts.count).toBe(1);
    } finally {
      scripts.restore();
    }
    expect(read).toEqual([precheckDone(5), []]);
    for (const h of ['f1', 'f2']) {
      expect(await redis.get(keys.handoverLease(ROLLOUT, h))).toBe(`new-${h}`);
      expect(await redis.pttl(keys.handoverLease(ROLLOUT, h))).toBeGreaterThan(15_000);
    }
    // The lengths they read are what their next writes expect.
    await journals[0].append(handoverIdOf(ROLLOUT, 'f1'), { type: 'step_start', step: 'preserve', at: 6 });
    await journals[1].append(handoverIdOf(ROLLOUT, 'f2'), { type: 'step_start', step: 'precheck', at: 6 });
    expect(await redis.llen(keys.journal(ROLLOUT, 'f1'))).toBe(2);
    expect(await redis.llen(keys.journal(ROLLOUT, 'f2'))).toBe(1);
  });

  it('splits a turn with more writes than its limit into several runs, in order', async () => {
    const group = new JournalGroupCommit(redis, keys, 2);
    const hosts = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const journals = await Promise.all(hosts.map((h) => leased(h, group)));
    const scripts = countScriptRuns(redis);
    try {
      await Promise.all(journals.map((j, i) => j.append(handoverIdOf(ROLLOUT, hosts[i]), { type: 'step_start', step: 'precheck', at: i })));
      expect(scripts.count).toBe(3);
    } finally {
      scripts.restore();
    }
    for (const h of hosts) expect(await redis.llen(keys.journal(ROLLOUT, h))).toBe(1);
  });

  it('rejects every write of a run that fails, so each caller sees the error', async () => {
    const group = new JournalGroupCommit(redis, keys);
    const journals = await Promise.all(['d1', 'd2'].map((h) => leased(h, group)));
    // A state set of the wrong type makes the script fail inside Redis.
    await redis.set(keys.hostStateSet(ROLLOUT, 'kexec_load'), 'not a set');
    try {
      const results = await Promise.allSettled(journals.map((j, i) => j.appendMany(`${ROLLOUT}.d${i + 1}`, precheckDone(1))));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    } finally {
      await redis.del(keys.hostStateSet(ROLLOUT, 'kexec_load'));
    }
  });

  it('lands a whole group sent twice once (a client resending after a lost answer)', async () => {
    await redis.set(keys.handoverLease(ROLLOUT, 'e1'), 't1');
    await redis.set(keys.handoverLease(ROLLOUT, 'e2'), 't2');
    const write = (host: string, token: string): JournalWrite => ({
      hostId: host,
      handoverId: handoverIdOf(ROLLOUT, host),
      leaseToken: token,
      expectedLength: 0,
      entries: JSON.stringify({ type: 'step_start', step: 'precheck', at: 1 }),
      counters: [['v|precheck|preservable|none', 2]],
      newState: 'precheck',
      outcome: '',
      resultJson: '',
    });
    const writes = [write('e1', 't1'), write('e2', 't2')];
    const before = Number(await redis.hget(keys.stats(ROLLOUT), 'v|precheck|preservable|none'));
    expect(await runJournalWrites(redis, keys, ROLLOUT, writes)).toEqual([
      { written: true, count: -2 },
      { written: true, count: -2 },
    ]);
    expect(await runJournalWrites(redis, keys, ROLLOUT, writes)).toEqual([
      { written: true, count: 0 },
      { written: true, count: 0 },
    ]);
    expect(await redis.llen(keys.journal(ROLLOUT, 'e1'))).toBe(1);
    expect(await redis.llen(keys.journal(ROLLOUT, 'e2'))).toBe(1);
    expect(Number(await redis.hget(keys.stats(ROLLOUT), 'v|precheck|preservable|none'))).toBe(before + 4);
  });

  it('moves each host of a run from its state before the run to its last one, in sets, hash and counts', async () => {
    const MOVES = 'r-moves';
    await redis.hset(keys.hostStates(MOVES), 'm1', 'queued');
    await redis.sadd(keys.hostStateSet(MOVES, 'queued'), 'm1');
    await redis.hincrby(keys.stateCounts(MOVES), 'queued', 1);
    const start = (host: string, step: string, expectedLength: number): JournalWrite => ({
      hostId: host,
      handoverId: handoverIdOf(MOVES, host),
      leaseToken: '',
      expectedLength,
      entries: JSON.stringify({ type: 'step_start', step, at: 1 }),
      counters: [],
      newState: step,
      outcome: '',
      resultJson: '',
    });
    // m1 twice in one run (queued -> kexec_load -> preserve), m2 from no state at all.
    await runJournalWrites(redis, keys, MOVES, [start('m1', 'kexec_load', 0), start('m1', 'preserve', 1), start('m2', 'preserve', 0)]);
    expect(await redis.hmget(keys.hostStates(MOVES), 'm1', 'm2')).toEqual(['preserve', 'preserve']);
    expect(await redis.sismember(keys.hostStateSet(MOVES, 'queued'), 'm1')).toBe(0);
    expect(await redis.sismember(keys.hostStateSet(MOVES, 'kexec_load'), 'm1')).toBe(0);
    expect((await redis.smembers(keys.hostStateSet(MOVES, 'preserve'))).sort()).toEqual(['m1', 'm2']);
    const counts = await redis.hmget(keys.stateCounts(MOVES), 'queued', 'kexec_load', 'preserve');
    expect(counts.map((c) => Number(c ?? 0))).toEqual([0, 0, 2]);
  });

  it('keeps the event stream near its bound, trimming once per run', async () => {
    const BOUNDED = 'r-bounded';
    const write = (host: string): JournalWrite => ({
      hostId: host,
      handoverId: handoverIdOf(BOUNDED, host),
      leaseToken: '',
      expectedLength: 0,
      entries: JSON.stringify({ type: 'step_start', step: 'kexec_load', at: 1 }),
      counters: [],
      newState: '',
      outcome: '',
      resultJson: '',
    });
    // 40 runs of 50 writes, bound 10: MAXLEN ~ drops whole stream nodes (100 entries each), so the
    // stream may pass the bound by a node and a run, never by more.
    for (let run = 0; run < 40; run++) {
      await runJournalWrites(redis, keys, BOUNDED, Array.from({ length: 50 }, (_, i) => write(`b${run}-${i}`)), 10);
    }
    expect(await redis.llen(keys.journal(BOUNDED, 'b39-49'))).toBe(1);
    expect(await redis.xlen(keys.events(BOUNDED))).toBeLessThanOrEqual(10 + 100 + 50);
  });
});
