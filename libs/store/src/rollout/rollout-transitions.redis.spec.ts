import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type IORedis from 'ioredis';
import { FleetKeys } from '@luo-fleet/redis';
import { ROLLOUT_ACTIONS, ROLLOUT_TRANSITIONS, rolloutStatusAfter, type RolloutEvent, type RolloutStatus } from '@luo-fleet/rollout';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { ADVANCE, CONTROL } from './rollout-scripts';
import { recordOutcome } from './outcome-record';

/** Every status, once: the record fails to compile when RolloutStatus gains or loses one. */
const STATUSES = Object.keys({
  scheduled: 0,
  running: 0,
  paused: 0,
  awaiting_approval: 0,
  completed: 0,
  halted: 0,
  aborted: 0,
  expired: 0,
} satisfies Record<RolloutStatus, 0>) as RolloutStatus[];

const FAR = 8_000_000_000_000;
const NOW = 1_000_000;

/**
 * For each event the coordinator or an outcome raises, an admission hash (and pending hosts) in
 * which that event, and no other, is due: ADVANCE (or RECORD_OUTCOME for `halt`) then moves the
 * status exactly when the table says the event applies in it.
 */
const DUE: Record<Exclude<RolloutEvent, (typeof ROLLOUT_ACTIONS)[number]>, { adm: Record<string, string | number>; pending: number }> = {
  start: { adm: { startAt: 0, cutoffAt: FAR, inflight: 1, batches: '[5]', batch: 0, batchAdmitted: 0, requireApproval: '0' }, pending: 1 },
  expire: { adm: { startAt: FAR, cutoffAt: 0, inflight: 1, batches: '[5]', batch: 0, batchAdmitted: 0, requireApproval: '0' }, pending: 1 },
  await_approval: { adm: { startAt: FAR, cutoffAt: FAR, inflight: 0, batches: '[1,1]', batch: 0, batchAdmitted: 1, requireApproval: '1' }, pending: 1 },
  complete: { adm: { startAt: FAR, cutoffAt: FAR, inflight: 0, batches: '[1]', batch: 0, batchAdmitted: 1, requireApproval: '0' }, pending: 0 },
  halt: { adm: { startAt: FAR, cutoffAt: FAR, inflight: 1, batches: '[5]', batch: 0, batchAdmitted: 1, requireApproval: '0', maxFailures: 0, failures: 0, finished: 0 }, pending: 0 },
};

describe('rollout status scripts against ROLLOUT_TRANSITIONS', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let redis: IORedis;
  let n = 0;

  beforeAll(() => {
    ns = redisNamespace('transitions');
    keys = new FleetKeys(ns.prefix);
    redis = ns.redis;
  });
  afterAll(async () => {
    await ns.drop();
  });

  /** A fresh rollout in `status` with these admission fields and pending hosts. */
  async function rollout(status: RolloutStatus, adm: Record<string, string | number>, pending = 0): Promise<string> {
    const id = `r${++n}`;
    await redis.hset(keys.admission(id), { ...adm, status });
    if (pending > 0) await redis.rpush(keys.pending(id), ...Array.from({ length: pending }, (_, i) => `p${i}`));
    return id;
  }

  it('applies each operator action in the statuses the table lists, moving to its target', async () => {
    for (const action of ROLLOUT_ACTIONS) {
      for (const status of STATUSES) {
        const pausedFroms = status === 'paused' ? ROLLOUT_TRANSITIONS.pause.from : [undefined];
        for (const pausedFrom of pausedFroms) {
          const id = await rollout(status, pausedFrom ? { pausedFrom } : {});
          const [applied, after] = (await CONTROL.run(redis, [keys.admission(id)], [action])) as [number, string];
          const expected = rolloutStatusAfter(status, action, pausedFrom);
          const seen = { action, status, pausedFrom, applied: applied === 1, after };
          expect(seen).toEqual({ action, status, pausedFrom, applied: expected !== null, after: expected ?? status });
          expect(await redis.hget(keys.admission(id), 'status')).toBe(expected ?? status);
        }
      }
    }
  });

  it('pauses and resumes back to the status it paused', async () => {
    for (const status of ROLLOUT_TRANSITIONS.pause.from) {
      const id = await rollout(status, {});
      await CONTROL.run(redis, [keys.admission(id)], ['pause']);
      expect(await CONTROL.run(redis, [keys.admission(id)], ['resume'])).toEqual([1, status]);
    }
  });

  it('moves the rollout on its own (start, expire, await approval, complete) in the statuses the table lists', async () => {
    for (const event of ['start', 'expire', 'await_approval', 'complete'] as const) {
      for (const status of STATUSES) {
        const id = await rollout(status, DUE[event].adm, DUE[event].pending);
        const [after] = (await ADVANCE.run(redis, [keys.admission(id), keys.pending(id)], [NOW])) as [string];
        expect({ event, status, after }).toEqual({ event, status, after: rolloutStatusAfter(status, event) ?? status });
      }
    }
  });

  it('halts on an outcome past the failure budget in the statuses the table lists', async () => {
    for (const status of STATUSES) {
      const id = await rollout(status, DUE.halt.adm);
      await recordOutcome(redis, keys, id, 'h1', { outcome: 'failed', reasons: [] });
      const after = await redis.hget(keys.admission(id), 'status');
      expect({ status, after }).toEqual({ status, after: rolloutStatusAfter(status, 'halt') ?? status });
    }
  });
});
