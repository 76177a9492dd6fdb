import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldJournal } from '@luo-fleet/handover';
import { RedisHandoverJournal } from '@luo-fleet/store';
import { redisNamespace, type RedisNamespace } from '../support/redis-namespace';
import { waitFor } from '../support/app-process';
import { IN_FLIGHT, OUTCOMES, RolloutHarness, TARGET } from './rollout-harness';

/** Rollouts driven by real worker processes (coordinator included) against the real Redis. */
describe('rollout coordinator', () => {
  let ns: RedisNamespace;
  let h: RolloutHarness;

  beforeAll(() => {
    ns = redisNamespace('rollout');
    h = new RolloutHarness(ns);
    h.startWorkers(2);
  });

  afterAll(async () => {
    await h.close();
    await ns.drop();
  });

  /** When each host's first journal entry was written, from the rollout's event stream (journals are compacted once it finished). */
  async function firstEvents(rolloutId: string): Promise<Map<string, number>> {
    const first = new Map<string, number>();
    for (const [, fields] of await ns.redis.xrange(h.keys.events(rolloutId), '-', '+')) {
      const f = Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])));
      if (!first.has(f.host)) first.set(f.host, Number((JSON.parse(f.entries.split('\n')[0]) as { at: number }).at));
    }
    return first;
  }

  /** Samples the rollout every 50 ms until it finishes; returns the largest in-flight counts seen. */
  async function sample(id: string, domainOf: (host: string) => string) {
    let maxInFlight = 0;
    let maxPerDomain = 0;
    for (;;) {
      const states = await h.states(id);
      const flying = Object.entries(states).filter(([, s]) => IN_FLIGHT(s)).map(([host]) => host);
      maxInFlight = Math.max(maxInFlight, flying.length);
      const perDomain = new Map<string, number>();
      for (const host of flying) perDomain.set(domainOf(host), (perDomain.get(domainOf(host)) ?? 0) + 1);
      maxPerDomain = Math.max(maxPerDomain, ...perDomain.values(), 0);
      const v = await h.view(id);
      if (v.finishedAt !== undefined) return { maxInFlight, maxPerDomain, view: v, states };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('never exceeds maxConcurrent nor the failure-domain limit, and updates every host', async () => {
    const ids = await h.fleet('conc', 30, 3);
    const { rollout } = await h.create({ selector: 'fleet=conc', maxConcurrent: 5, maxPerFailureDomain: { key: 'rack', limit: 2 } });
    const rackOf = (host: string) => `rack-${Number(host.slice(-3)) % 3}`;
    const { maxInFlight, maxPerDomain, view, states } = await sample(rollout.id, rackOf);
    expect(view.status).toBe('completed');
    expect(maxInFlight).toBeLessThanOrEqual(5);
    expect(maxPerDomain).toBeLessThanOrEqual(2);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(Object.keys(states).sort()).toEqual(ids);
    expect(Object.values(states).every((s) => s === 'updated')).toBe(true);
    for (const id of ids) expect((await h.simulated.load(id))!.kernelRelease).toBe(TARGET);
    // Once finished, the rollout is compacted: each journal is down to its outcome, and the
    // status, host pages and counters still answer.
    await waitFor('compaction', async () => (await ns.redis.exists(h.keys.plans(rollout.id))) === 0, 10_000);
    await waitFor('journals cut', async () => (await ns.redis.llen(h.keys.journal(rollout.id, ids[0]))) === 1, 10_000);
    const page = await h.rollouts.hosts(rollout.id, { state: 'updated', limit: 100 });
    expect(page.hosts.length).toBeGreaterThan(0);
    expect((await h.view(rollout.id)).hostsByState.updated).toBe(30);
    expect(Number((await ns.redis.hgetall(h.keys.stats(rollout.id)))['h|updated'])).toBe(30);
  });

  it('halts admission once failures exceed the budget, then cancels the rest', async () => {
    const faults = Object.fromEntries([2, 4, 6, 8, 10].map((i) => [i, { failStep: 'preserve' as const }]));
    await h.fleet('budget', 16, 2, faults);
    const { rollout } = await h.create({ selector: 'fleet=budget', maxConcurrent: 1, maxFailures: 2 });
    const view = await h.finished(rollout.id);
    expect(view.status).toBe('halted');
    const states = Object.values(await h.states(rollout.id));
    // One host at a time: the third failure (host 6) halts; hosts 0-6 ran, the rest never started.
    expect(states.filter((s) => s === 'rolled_back')).toHaveLength(3);
    expect(states.filter((s) => s === 'updated')).toHaveLength(4);
    expect(states.filter((s) => s === 'cancelled')).toHaveLength(9);
    expect(states.every((s) => OUTCOMES.includes(s))).toBe(true);
  });

  it('waits for approval between canary batches', async () => {
    await h.fleet('canary', 8, 2);
    const { rollout } = await h.create({ selector: 'fleet=canary', maxConcurrent: 4, canary: { batches: [1, 3], requireApproval: true } });
    await waitFor('first batch', async () => (await h.view(rollout.id)).status === 'awaiting_approval', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    let v = await h.view(rollout.id);
    expect(v.hostsByState.updated).toBe(1);
    expect(v.hostsByState.pending).toBe(7);
    expect((await h.rollouts.control(rollout.id, 'approve')).applied).toBe(true);
    await waitFor('second batch', async () => (await h.view(rollout.id)).status === 'awaiting_approval', 30_000);
    v = await h.view(rollout.id);
    expect(v.hostsByState.updated).toBe(4);
    expect((await h.rollouts.control(rollout.id, 'approve')).applied).toBe(true);
    v = await h.finished(rollout.id);
    expect(v.status).toBe('completed');
    expect(v.hostsByState.updated).toBe(8);
  });

  it('pauses admission and resumes', async () => {
    await h.fleet('pause', 12, 2);
    const { rollout } = await h.create({ selector: 'fleet=pause', maxConcurrent: 2 });
    await waitFor('some progress', async () => ((await h.view(rollout.id)).hostsByState.updated ?? 0) >= 2, 30_000);
    expect((await h.rollouts.control(rollout.id, 'pause')).status).toBe('paused');
    await waitFor('in-flight hosts to finish', async () => (await h.view(rollout.id)).inflight === 0, 30_000);
    const frozen = (await h.view(rollout.id)).hostsByState.pending;
    await new Promise((r) => setTimeout(r, 600));
    expect((await h.view(rollout.id)).hostsByState.pending).toBe(frozen);
    expect(frozen).toBeGreaterThan(0);
    expect((await h.rollouts.control(rollout.id, 'resume')).status).toBe('running');
    const v = await h.finished(rollout.id);
    expect(v.status).toBe('completed');
    expect(v.hostsByState.updated).toBe(12);
  });

  it('aborts: hosts not started end cancelled, in-flight ones finish or roll back', async () => {
    await h.fleet('abort', 20, 2);
    const { rollout } = await h.create({ selector: 'fleet=abort', maxConcurrent: 2 });
    await waitFor('first updates', async () => ((await h.view(rollout.id)).hostsByState.updated ?? 0) >= 2, 30_000);
    expect((await h.rollouts.control(rollout.id, 'abort')).status).toBe('aborted');
    const v = await h.finished(rollout.id);
    expect(v.status).toBe('aborted');
    const states = Object.values(await h.states(rollout.id));
    expect(states).toHaveLength(20);
    expect(states.every((s) => ['updated', 'rolled_back', 'cancelled'].includes(s))).toBe(true);
    expect(states.filter((s) => s === 'cancelled').length).toBeGreaterThan(10);
    expect((await h.rollouts.control(rollout.id, 'resume')).applied).toBe(false);
  });

  it('starts no host after the cutoff', async () => {
    await h.fleet('cutoff', 20, 2);
    const now = Date.now();
    const cutoffAt = now + 1_500;
    const { rollout } = await h.create({
      selector: 'fleet=cutoff',
      maxConcurrent: 1,
      window: { startAt: now, endAt: now + 60_000, cutoffAt },
    });
    const v = await h.finished(rollout.id);
    expect(v.status).toBe('expired');
    const states = await h.states(rollout.id);
    const started = Object.entries(states).filter(([, s]) => s !== 'cancelled');
    expect(started.length).toBeGreaterThan(0);
    expect(Object.values(states).filter((s) => s === 'cancelled').length).toBeGreaterThan(0);
    const firstEvent = await firstEvents(rollout.id);
    for (const [host] of started) expect(firstEvent.get(host)).toBeLessThan(cutoffAt);
  });

  it('waits for a window that opens in the future', async () => {
    await h.fleet('later', 3, 1);
    const startAt = Date.now() + 1_500;
    const { rollout } = await h.create({ selector: 'fleet=later', window: { startAt, endAt: startAt + 60_000, cutoffAt: startAt + 50_000 } });
    await new Promise((r) => setTimeout(r, 800));
    expect((await h.view(rollout.id)).status).toBe('scheduled');
    expect((await h.view(rollout.id)).hostsByState.pending).toBe(3);
    const v = await h.finished(rollout.id);
    expect(v.status).toBe('completed');
    const firstEvent = await firstEvents(rollout.id);
    expect(firstEvent.size).toBe(3);
    expect(Math.min(...firstEvent.values())).toBeGreaterThanOrEqual(startAt);
  });

  it('runs a stored rollout whose coordinator job was never enqueued (planner died in between)', async () => {
    await h.fleet('orphan', 4, 2);
    const { rollout } = await h.create({ selector: 'fleet=orphan' }, { enqueue: false });
    const v = await h.finished(rollout.id);
    expect(v.status).toBe('completed');
    expect(v.hostsByState.updated).toBe(4);
  });

  it('loses and duplicates no host when every worker is killed mid-rollout', async () => {
    const ids = await h.fleet('restart', 24, 3);
    const { rollout } = await h.create({ selector: 'fleet=restart', maxConcurrent: 4 });
    await waitFor('progress', async () => ((await h.view(rollout.id)).hostsByState.updated ?? 0) >= 4, 30_000);
    await h.killWorkers('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    h.startWorkers(2);
    const v = await h.finished(rollout.id, 90_000);
    expect(v.status).toBe('completed');
    const states = await h.states(rollout.id);
    expect(Object.keys(states).sort()).toEqual(ids);
    expect(Object.values(states).every((s) => s === 'updated')).toBe(true);
    expect(v.finished).toBe(24);
    for (const id of ids) {
      expect((await h.simulated.load(id))!.calls.kexec).toBe(1);
      const outcomes = (await new RedisHandoverJournal(ns.redis, h.keys, rollout.id, id).load('')).filter((e) => e.type === 'outcome');
      expect(outcomes).toHaveLength(1);
      expect(foldJournal(await new RedisHandoverJournal(ns.redis, h.keys, rollout.id, id).load('')).outcome?.outcome).toBe('updated');
    }
    const stats = await ns.redis.hgetall(h.keys.stats(rollout.id));
    expect(Number(stats['h|updated'])).toBe(24);
  });
});
