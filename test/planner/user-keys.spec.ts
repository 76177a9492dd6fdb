import { FleetKeys } from '@luo-fleet/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, singletonHost } from './host-topologies';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

/*
 * Keys the caller chooses (label keys, failure-domain keys, host ids as keys of `devices`) must
 * never meet Object.prototype: `constructor` finds nothing unless sent, and `__proto__`, which
 * JSON keeps as an ordinary key, is refused with a 400 naming it rather than dropped.
 */

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

describe('caller-chosen keys', () => {
  it('refuses a __proto__ label key with a 400 naming labels.__proto__, and stores nothing', async () => {
    const raw = '{"id":"hv-proto","labels":{"rack":"r1","zone":"z1","__proto__":"x"}}';
    const res = await p.call('POST', '/v1/hosts', { raw });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['labels.__proto__']);
    expect((await p.call('GET', '/v1/hosts/hv-proto')).status).toBe(404);

    const batch = `{"hosts":[{"id":"hv-proto","labels":{"__proto__":{"rack":"r1"},"zone":"z1","rack":"r1"}}]}`;
    const refused = await p.call('POST', '/v1/hosts:batch', { raw: batch });
    expect(refused.status).toBe(400);
    expect(refused.body.issues.map((i: { field: string }) => i.field)).toEqual(['hosts.0.labels.__proto__']);
  });

  it('refuses a __proto__ key in a plan request\'s devices', async () => {
    const res = await p.call('POST', '/v1/plans', { raw: '{"selector":"","devices":{"__proto__":["0000:01:00.0"]}}' });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['devices.__proto__']);
  });

  it('plans a host named constructor like any other when devices does not name it', async () => {
    expect((await p.call('POST', '/v1/hosts', { body: host('constructor', { rack: 'r1', zone: 'zc' }, singletonHost()) })).status).toBe(201);
    const res = await p.call('POST', '/v1/plans', { body: { selector: 'zone=zc', devices: { 'hv-elsewhere': [] } } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.hosts.map((h: { id: string; eligible: boolean }) => [h.id, h.eligible])).toEqual([['constructor', true]]);
  });

  it('puts hosts without the failure-domain label `constructor` in the domain (none)', async () => {
    const hosts = [host('hv-d1', { rack: 'r1', zone: 'zd' }, singletonHost()), host('hv-d2', { rack: 'r2', zone: 'zd', constructor: 'c7' }, singletonHost())];
    expect((await p.call('POST', '/v1/hosts:batch', { body: { hosts } })).status).toBe(200);
    const res = await p.call('POST', '/v1/rollouts', {
      body: { selector: 'zone=zd', targetKernel: '6.18.0-luo', maxPerFailureDomain: { key: 'constructor', limit: 1 } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const domains = await p.redis.hgetall(new FleetKeys(p.prefix).hostDomains(res.body.rollout.id));
    expect(domains).toEqual({ 'hv-d1': '(none)', 'hv-d2': 'c7' });
    expect((await p.call('POST', `/v1/rollouts/${res.body.rollout.id}/abort`)).status).toBeLessThan(300);
  });
});
