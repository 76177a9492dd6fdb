import { FleetKeys } from '@luo-fleet/redis';
import { RolloutStore } from '@luo-fleet/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, singletonHost } from './host-topologies';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

/*
 * A rollout carries each host's plan and driver, so removing a host from the inventory would not
 * stop its update: DELETE /v1/hosts/:id refuses while an unfinished rollout has yet to update it.
 */

let p: PlannerUnderTest;
let store: RolloutStore;
beforeAll(async () => {
  p = await startPlanner();
  store = new RolloutStore(p.redis, new FleetKeys(p.prefix));
  const hosts = [
    host('hv-r1', { rack: 'r1', zone: 'zr' }, singletonHost()),
    host('hv-r2', { rack: 'r2', zone: 'zr' }, singletonHost()),
    // No topology: skipped at creation, so the rollout never updates it.
    host('hv-r3', { rack: 'r3', zone: 'zr' }),
    host('hv-out', { rack: 'r1', zone: 'zo' }, singletonHost()),
  ];
  expect((await p.call('POST', '/v1/hosts:batch', { body: { hosts } })).status).toBe(200);
});
afterAll(async () => p?.close());

describe('DELETE /v1/hosts/:id during a rollout', () => {
  it('answers 409 naming the rollout while it has yet to update the host, and keeps the host', async () => {
    const created = await p.call('POST', '/v1/rollouts', { body: { selector: 'zone=zr', targetKernel: '6.18.0-luo', window: { startAt: Date.now() + 3_600_000, durationMinutes: 60 } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.rollout.id as string;

    const refused = await p.call('DELETE', '/v1/hosts/hv-r1');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect(refused.body.message).toContain(`rollout ${id}`);
    expect((await p.call('GET', '/v1/hosts/hv-r1')).status).toBe(200);

    // Not in the rollout, or skipped by it: removed as before.
    expect((await p.call('DELETE', '/v1/hosts/hv-out')).status).toBe(204);
    expect((await p.call('DELETE', '/v1/hosts/hv-r3')).status).toBe(204);

    // Once the host's outcome is counted the rollout holds nothing of it.
    expect(await store.recordOutcome(id, 'hv-r2', { outcome: 'updated', reasons: [] })).toBe(true);
    expect((await p.call('DELETE', '/v1/hosts/hv-r2')).status).toBe(204);
  });
});
