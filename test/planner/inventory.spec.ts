import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, singletonHost } from './host-topologies';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

const ids = (body: { hosts: Array<{ id: string }> }) => body.hosts.map((h) => h.id);

describe('inventory', () => {
  it('registers, gets with topology, and replaces idempotently', async () => {
    const first = await p.call('POST', '/v1/hosts', { body: host('hv-001', { rack: 'r1', zone: 'z1' }, singletonHost()) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ created: true, host: { id: 'hv-001', devices: 2, driver: { kind: 'simulated' } } });

    const got = await p.call('GET', '/v1/hosts/hv-001', { as: 'viewer' });
    expect(got.status).toBe(200);
    expect(got.body.topology).toEqual(singletonHost());

    const again = await p.call('POST', '/v1/hosts', {
      // topology: null registers an agent-backed host without asking its agent (left out, the planner would).
      body: { id: 'hv-001', labels: { rack: 'r2', zone: 'z1' }, driver: { kind: 'agent', url: 'https://hv-001.example:7443' }, topology: null },
    });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const replaced = (await p.call('GET', '/v1/hosts/hv-001')).body;
    expect(replaced).toMatchObject({ labels: { rack: 'r2', zone: 'z1' }, driver: { kind: 'agent', url: 'https://hv-001.example:7443' }, topology: null });
    // The old label no longer selects it.
    expect(ids((await p.call('GET', '/v1/hosts?selector=rack%3Dr1')).body)).toEqual([]);
    expect(ids((await p.call('GET', '/v1/hosts?selector=rack%3Dr2')).body)).toEqual(['hv-001']);
    expect((await p.call('DELETE', '/v1/hosts/hv-001')).status).toBe(204);
  });

  it('registers a batch and filters by label selectors', async () => {
    const hosts = [
      host('hv-a1', { rack: 'r1', zone: 'z1', kind: 'gpu' }, physfnHost()),
      host('hv-a2', { rack: 'r1', zone: 'z2', kind: 'storage' }),
      host('hv-b1', { rack: 'r2', zone: 'z1', kind: 'gpu' }),
      host('hv-b2', { rack: 'r2', zone: 'z2', kind: 'compute', maintenance: 'true' }),
      host('hv-c1', { rack: 'r3', zone: 'z3' }),
    ];
    const res = await p.call('POST', '/v1/hosts:batch', { body: { hosts } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ created: 5, replaced: 0 });

    const select = async (selector: string) => ids((await p.call('GET', `/v1/hosts?selector=${encodeURIComponent(selector)}`, { as: 'viewer' })).body);
    expect(await select('')).toEqual(['hv-a1', 'hv-a2', 'hv-b1', 'hv-b2', 'hv-c1']);
    expect(await select('rack=r1')).toEqual(['hv-a1', 'hv-a2']);
    expect(await select('rack=r1,zone=z2')).toEqual(['hv-a2']);
    expect(await select('zone==z1,kind=gpu')).toEqual(['hv-a1', 'hv-b1']);
    expect(await select('kind!=gpu')).toEqual(['hv-a2', 'hv-b2', 'hv-c1']);
    expect(await select('zone in (z2, z3)')).toEqual(['hv-a2', 'hv-b2', 'hv-c1']);
    expect(await select('zone notin (z1,z2),rack=r3')).toEqual(['hv-c1']);
    expect(await select('maintenance')).toEqual(['hv-b2']);
    expect(await select('!kind')).toEqual(['hv-c1']);
    expect(await select('no-such-key=x')).toEqual([]);
    expect(await select('rack=r9')).toEqual([]);

    const listed = (await p.call('GET', '/v1/hosts?selector=rack%3Dr1')).body.hosts[0];
    expect(listed).toEqual({ id: 'hv-a1', labels: { rack: 'r1', zone: 'z1', kind: 'gpu' }, driver: { kind: 'simulated' }, registeredAt: expect.any(String), devices: 4, vms: 0 });
  });

  it('pages through hosts with limit and cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { hosts: Array<{ id: string }>; nextCursor: string | null } } = await p.call('GET', `/v1/hosts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.hosts.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['hv-a1', 'hv-a2', 'hv-b1', 'hv-b2', 'hv-c1']);
    // A selector and a cursor together: the page after hv-a1 among zone=z1.
    expect(ids((await p.call('GET', '/v1/hosts?selector=zone%3Dz1&cursor=hv-a1')).body)).toEqual(['hv-b1']);
  });

  it('deletes a host, its label index entries with it', async () => {
    expect((await p.call('DELETE', '/v1/hosts/hv-b1')).status).toBe(204);
    expect((await p.call('GET', '/v1/hosts/hv-b1')).status).toBe(404);
    expect(ids((await p.call('GET', '/v1/hosts?selector=kind%3Dgpu')).body)).toEqual(['hv-a1']);
    expect(await p.redis.zrange(`${p.prefix}:{inventory}:label:rack=r2`, 0, -1)).toEqual(['hv-b2']);
    expect((await p.call('DELETE', '/v1/hosts/hv-b1')).status).toBe(404);
  });

  it('keeps the label index exact under concurrent re-registrations of one host', async () => {
    const racks = Array.from({ length: 20 }, (_, i) => `rx${i}`);
    const results = await Promise.all(racks.map((rack) => p.call('POST', '/v1/hosts', { body: host('hv-race', { rack, zone: 'z1' }) })));
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    const finalRack = (await p.call('GET', '/v1/hosts/hv-race')).body.labels.rack;
    const indexed = await Promise.all(racks.map(async (rack) => [rack, await p.redis.zscore(`${p.prefix}:{inventory}:label:rack=${rack}`, 'hv-race')] as const));
    expect(indexed.filter(([, score]) => score !== null).map(([rack]) => rack)).toEqual([finalRack]);
  });
});
