import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetKeys } from '@luo-fleet/redis';
import { handoverIdOf, type HandoverOrder, type HostStrategy } from '@luo-fleet/handover';
import type { Rollout } from '@luo-fleet/rollout';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { RedisHandoverJournal } from '../journal/redis-handover-journal';
import { RolloutStore, type RolloutHostInput } from './rollout-store';

const STRATEGIES: HostStrategy[] = ['live-update', 'live-update-restart', 'evacuate', 'skip'];

describe('hostsByStrategy, counted where host states move (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let store: RolloutStore;

  beforeAll(() => {
    ns = redisNamespace('strategy-counts');
    keys = new FleetKeys(ns.prefix);
    store = new RolloutStore(ns.redis, keys);
  });
  afterAll(async () => ns.drop());

  function rolloutOf(id: string, hosts: number, strategies?: string[]): Rollout {
    const now = Date.now();
    return {
      id,
      createdAt: now,
      createdBy: 'test',
      spec: { selector: '', targetKernel: 'k', ...(strategies ? { strategies } : {}), window: { startAt: 0, endAt: now + 3_600_000, cutoffAt: now + 3_600_000 }, canary: { batches: [], requireApproval: false } },
      hostCount: hosts,
      limits: { maxConcurrent: 6, maxFailures: 100, batches: [hosts] },
      status: 'running',
      batch: 0,
    } as unknown as Rollout;
  }

  function hostsOf(id: string, count: number): RolloutHostInput[] {
    return Array.from({ length: count }, (_, i) => {
      const hostId = `h${i}`;
      const strategy = STRATEGIES[i % STRATEGIES.length];
      if (strategy === 'skip') return { hostId, domain: 'r', skip: { reasons: ['VM_NOT_MIGRATABLE'], error: 'none applies' } };
      return { hostId, domain: 'r', job: { plan: { hostId, rolloutId: id, handoverId: handoverIdOf(id, hostId), strategy }, driver: { kind: 'simulated' } } as unknown as HandoverOrder };
    });
  }

  /** What hostsByStrategy must say: each host's state, counted under its plan's strategy. */
  async function expected(id: string, hosts: RolloutHostInput[]) {
    const states = await ns.redis.hgetall(keys.hostStates(id));
    const by: Record<string, Record<string, number>> = {};
    for (const h of hosts) {
      const strategy = 'skip' in h ? 'skip' : h.job.plan.strategy!;
      (by[strategy] ??= {})[states[h.hostId]] = (by[strategy]?.[states[h.hostId]] ?? 0) + 1;
    }
    return by;
  }

  it('follows creation, admission, waiting, steps, outcomes and cancellation', async () => {
    const id = 'counted';
    const hosts = hostsOf(id, 16);
    await store.create(rolloutOf(id, 16, ['live-update', 'live-update-restart', 'evacuate']), hosts, []);
    expect((await store.get(id))!.hostsByStrategy).toEqual(await expected(id, hosts));
    const admitted = await store.admit(id);
    expect(admitted).toHaveLength(6);
    await store.markUnstarted(id, 'waiting_capacity', [admitted[0].plan.hostId]);
    const journal = (hostId: string) => new RedisHandoverJournal(ns.redis, keys, id, hostId, { countOutcomes: true });
    await journal(admitted[1].plan.hostId).append(admitted[1].plan.handoverId, { type: 'step_start', step: 'precheck', at: 1 });
    await journal(admitted[2].plan.hostId).appendMany(admitted[2].plan.handoverId, [
      { type: 'step_start', step: 'kexec_load', at: 1 },
      { type: 'outcome', at: 2, outcome: 'updated', reasons: [] },
    ]);
    await store.cancelPending(id, 'aborted', 3);
    const view = (await store.get(id))!;
    expect(view.hostsByStrategy).toEqual(await expected(id, hosts));
    expect(view.hostsByStrategy?.skip).toEqual({ skipped: 4 });
    expect(Object.values(view.hostsByStrategy!).flatMap((s) => Object.values(s)).reduce((a, b) => a + b, 0)).toBe(16);
  });

  it('is absent for a rollout that allows only the Live Update', async () => {
    await store.create(rolloutOf('plain', 4), hostsOf('plain', 3), []);
    await store.admit('plain');
    expect((await store.get('plain'))!.hostsByStrategy).toBeUndefined();
  });
});
