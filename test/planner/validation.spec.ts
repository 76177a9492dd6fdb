import { generateHost } from '@luo-fleet/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, singletonHost } from './host-topologies';
import { startPlanner, type PlannerUnderTest, inventorySnapshot, issueFields } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
  expect((await p.call('POST', '/v1/hosts', { body: host('hv-keep', { rack: 'r1', zone: 'z1' }, singletonHost()) })).status).toBe(201);
});
afterAll(async () => p?.close());



const topology = singletonHost();
const badDeep = { ...topology, devices: topology.devices.map((d, i) => (i === 1 ? { ...d, acs: { state: 'present', capability: 70000, control: 0 } } : d)) };

const badBodies: Array<{ name: string; method: string; path: string; body?: unknown; raw?: string; fields: string[] }> = [
  { name: 'bad host id', method: 'POST', path: '/v1/hosts', body: host('HV_1', { rack: 'r1', zone: 'z1' }), fields: ['id'] },
  { name: 'bad label key', method: 'POST', path: '/v1/hosts', body: host('hv-1', { rack: 'r1', zone: 'z1', '-bad': 'x' }), fields: ['labels.-bad'] },
  { name: 'bad label value and a missing label', method: 'POST', path: '/v1/hosts', body: host('hv-1', { rack: 'r 1' }), fields: ['labels.rack', 'labels.zone'] },
  { name: 'label key too long', method: 'POST', path: '/v1/hosts', body: host('hv-1', { rack: 'r1', zone: 'z1', ['k'.repeat(64)]: 'v' }), fields: [`labels.${'k'.repeat(64)}`] },
  { name: 'deep topology field', method: 'POST', path: '/v1/hosts', body: { ...host('hv-1', { rack: 'r1', zone: 'z1' }), topology: badDeep }, fields: ['topology.devices.1.acs.capability'] },
  { name: 'topology cross-check', method: 'POST', path: '/v1/hosts', body: { ...host('hv-1', { rack: 'r1', zone: 'z1' }), topology: { ...topology, iommuGroups: { ...topology.iommuGroups, '2': ['0000:09:00.0'] } } }, fields: ['topology.devices.1.iommuGroup', 'topology.iommuGroups.2.0'] },
  { name: 'agent driver without url and an unknown field', method: 'POST', path: '/v1/hosts', body: { id: 'hv-1', labels: { rack: 'r1', zone: 'z1' }, driver: { kind: 'agent' }, colour: 'red' }, fields: ['colour', 'driver.url'] },
  { name: 'malformed JSON', method: 'POST', path: '/v1/hosts', raw: '{"id": "hv-1", ', fields: ['body'] },
  { name: 'a JSON array as the body', method: 'POST', path: '/v1/hosts', raw: '[]', fields: ['body'] },
  { name: 'no body', method: 'POST', path: '/v1/hosts', fields: ['body'] },
  { name: 'batch: one bad host and a duplicate id', method: 'POST', path: '/v1/hosts:batch', body: { hosts: [host('hv-a', { rack: 'r1', zone: 'z1' }), host('hv-b', { rack: 'r1' }), host('hv-a', { rack: 'r2', zone: 'z1' })] }, fields: ['hosts.1.labels.zone', 'hosts.2.id'] },
  { name: 'batch: empty', method: 'POST', path: '/v1/hosts:batch', body: { hosts: [] }, fields: ['hosts'] },
  { name: 'unknown profile', method: 'POST', path: '/v1/plans', body: { selector: '', profile: 'no-such-kernel' }, fields: ['profile'] },
  { name: 'plan: bad selector, bad BDF, bad strictAcs', method: 'POST', path: '/v1/plans', body: { selector: 'rack in r1', strictAcs: 'yes', devices: { 'hv-keep': ['0000:zz:00.0'] } }, fields: ['devices.hv-keep.0', 'selector', 'strictAcs'] },
  { name: 'bad selector', method: 'GET', path: '/v1/hosts?selector=rack%3D%3Dr1%2C(zone', fields: ['selector'] },
  { name: 'bad limit and cursor, unknown query field', method: 'GET', path: '/v1/hosts?limit=5000&cursor=Nope&colour=red', fields: ['colour', 'cursor', 'limit'] },
  { name: 'bad host id in the path', method: 'GET', path: '/v1/hosts/Not_A_Host', fields: ['id'] },
];

describe('bad input gets a 400 naming each wrong field and changes nothing', () => {
  for (const c of badBodies) {
    it(c.name, async () => {
      const before = await inventorySnapshot(p);
      const res = await p.call(c.method, c.path, { body: c.body, raw: c.raw });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(typeof res.body.message).toBe('string');
      expect(issueFields(res.body)).toEqual(c.fields);
      for (const issue of res.body.issues) expect(issue.problem).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(await inventorySnapshot(p)).toBe(before);
    });
  }

  it('explains an unknown profile by listing the known ones', async () => {
    const res = await p.call('POST', '/v1/plans', { body: { profile: 'no-such-kernel' } });
    expect(res.body.issues[0].problem).toMatch(/unknown rule profile "no-such-kernel" \(known: .*singleton-group/);
  });
});

describe('not found', () => {
  it('answers 404 naming the host for GET and DELETE of an unknown host', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await p.call(method, '/v1/hosts/hv-nowhere');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'host hv-nowhere is not in the inventory' });
    }
  });

  it('answers 404 JSON for an unknown route', async () => {
    const res = await p.call('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});

describe('failures that are not the caller\'s', () => {
  it('turns an unexpected error into a 500 without internals in the body', async () => {
    await p.redis.hset(`${p.prefix}:{inventory}:host:hv-keep`, 'topology', '{not json');
    const res = await p.call('GET', '/v1/hosts/hv-keep');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error; the planner log has the details' });
  });

  it('answers 413 for a batch over the configured limit', async () => {
    const small = await startPlanner({ PLANNER_BODY_LIMIT: '1kb' });
    try {
      const res = await small.call('POST', '/v1/hosts:batch', { body: { hosts: [host('hv-big', { rack: 'r1', zone: 'z1' }, generateHost(1, 0).topology)] } });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is larger than 1kb, the limit of this route' });
      expect(await small.redis.exists(`${small.prefix}:{inventory}:host:hv-big`)).toBe(0);
      // The other routes keep their own limit.
      expect((await small.call('POST', '/v1/hosts', { body: host('hv-big', { rack: 'r1', zone: 'z1' }, generateHost(1, 0).topology) })).status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it('answers 413 for a body over 1mb on any other route', async () => {
    const res = await p.call('POST', '/v1/hosts', { body: { ...host('hv-big', { rack: 'r1', zone: 'z1' }), pad: 'x'.repeat(1024 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is larger than 1mb, the limit of this route' });
  });
});
