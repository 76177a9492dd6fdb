import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetKeys } from '@luo-fleet/redis';
import { RedisHandoverJournal } from '@luo-fleet/store';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { newestEvents } from './rollout-events';

describe('newestEvents (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;

  beforeAll(() => {
    ns = redisNamespace('events');
    keys = new FleetKeys(ns.prefix);
  });

  afterAll(async () => {
    await ns.drop();
  });

  it('reads the journal entries of a write back as events, newest first, in the API names', async () => {
    await ns.redis.set(keys.handoverLease('r1', 'h1'), 't');
    const journal = new RedisHandoverJournal(ns.redis, keys, 'r1', 'h1', { leaseToken: 't' });
    await journal.appendMany('r1.h1', [
      { type: 'step_end', step: 'freeze', at: 5, ok: false, durationMs: 3, reasons: ['HOST_UNREACHABLE'], error: 'no answer' },
      { type: 'rollback_begin', at: 6, phase: 'freeze', reasons: ['HOST_UNREACHABLE'], error: 'no answer' },
    ]);
    await journal.append('r1.h1', { type: 'outcome', at: 7, outcome: 'rolled_back', phase: 'freeze', reasons: ['HOST_UNREACHABLE'] });
    const events = await newestEvents(ns.redis, keys, 'r1', 10);
    expect(events.map(({ id: _id, ...e }) => e)).toEqual([
      { host: 'h1', handover: 'r1.h1', type: 'outcome', at: 7, outcome: 'rolled_back', step: 'freeze', reasons: ['HOST_UNREACHABLE'] },
      { host: 'h1', handover: 'r1.h1', type: 'rollback_begin', at: 6, step: 'freeze', reasons: ['HOST_UNREACHABLE'], error: 'no answer' },
      { host: 'h1', handover: 'r1.h1', type: 'step_end', at: 5, step: 'freeze', ok: false, ms: 3, reasons: ['HOST_UNREACHABLE'], error: 'no answer' },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    // `limit` counts events, not stream entries: the newest two are the outcome and the rollback.
    expect((await newestEvents(ns.redis, keys, 'r1', 2)).map((e) => e.type)).toEqual(['outcome', 'rollback_begin']);
  });

  it('still reads events written one field each by older versions, and a corrupt entry as text', async () => {
    const stream = keys.events('r2');
    await ns.redis.xadd(stream, '*', 'host', 'h2', 'handover', 'r2.h2', 'type', 'step_end', 'at', '7', 'step', 'preserve', 'ok', '1', 'ms', '4', 'reasons', '');
    await ns.redis.xadd(stream, '*', 'host', 'h2', 'handover', 'r2.h2', 'entries', '{not json');
    const [corrupt, older] = await newestEvents(ns.redis, keys, 'r2', 10);
    expect(older).toMatchObject({ host: 'h2', handover: 'r2.h2', type: 'step_end', at: 7, step: 'preserve', ok: true, ms: 4, reasons: [] });
    expect(corrupt).toMatchObject({ host: 'h2', entry: '{not json' });
  });
});
