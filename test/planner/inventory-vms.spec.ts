import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost } from './host-topologies';
import { everyReasonVms, vm } from './host-vms';
import { startPlanner, type PlannerUnderTest, inventorySnapshot, issueFields } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

const LABELS = { rack: 'r1', zone: 'z1' };
const withVms = (id: string, vms: unknown) => ({ ...host(id, LABELS, physfnHost()), vms });


describe('VMs in the inventory', () => {
  it('stores a host with its VMs, gives them back in the inventory form and counts them in the list', async () => {
    const vms = everyReasonVms();
    // An own `__proto__` key, as JSON.parse makes it: labels are the operator's, every key kept.
    vms[0].labels = JSON.parse('{"team": "web", "__proto__": "kept"}') as Record<string, string>;
    const res = await p.call('POST', '/v1/hosts', { body: withVms('hv-vm1', [...vms.slice(0, 4), { ...vms[4], devices: ['02:00.0'] }]) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.host).toMatchObject({ id: 'hv-vm1', devices: 4, vms: 5 });

    const got = (await p.call('GET', '/v1/hosts/hv-vm1', { as: 'viewer' })).body;
    // Short BDFs come back in full form, every field as sent.
    expect(got.vms).toEqual(JSON.parse(JSON.stringify(vms)));
    expect(Object.keys(got.vms[0].labels)).toEqual(['team', '__proto__']);

    const listed = (await p.call('GET', '/v1/hosts?selector=rack%3Dr1')).body.hosts;
    expect(listed.find((h: { id: string }) => h.id === 'hv-vm1')).toMatchObject({ devices: 4, vms: 5 });
  });

  it('keeps the record compact: VMs as tuples, not objects', async () => {
    await p.call('POST', '/v1/hosts', { body: withVms('hv-vm2', [vm('a', { devices: ['0000:02:00.0'], virtioMem: true, migratable: false })]) });
    const stored = await p.redis.hget(`${p.prefix}:{inventory}:host:hv-vm2`, 'vms');
    expect(JSON.parse(stored!)).toEqual([['a', ['0000:02:00.0'], 0, 4096, 2]]);
  });

  it('registers a host without VMs as before, and a re-registration without them drops the old ones', async () => {
    await p.call('POST', '/v1/hosts', { body: withVms('hv-vm3', [vm('a')]) });
    expect((await p.call('POST', '/v1/hosts', { body: host('hv-vm3', LABELS, physfnHost()) })).status).toBe(200);
    const got = (await p.call('GET', '/v1/hosts/hv-vm3')).body;
    expect(got.vms).toEqual([]);
    expect(await p.redis.hget(`${p.prefix}:{inventory}:host:hv-vm3`, 'vms')).toBeNull();
  });

  const bad: Array<{ name: string; path: string; body: unknown; fields: string[] }> = [
    { name: 'a device the host does not have', path: '/v1/hosts', body: withVms('hv-bad', [vm('a', { devices: ['0000:09:00.0'] })]), fields: ['vms.0.devices.0'] },
    {
      name: 'a device held by two VMs',
      path: '/v1/hosts',
      body: withVms('hv-bad', [vm('a', { devices: ['0000:02:00.0'] }), vm('b', { devices: ['02:00.0'] })]),
      fields: ['vms.1.devices.0'],
    },
    { name: 'a negative size', path: '/v1/hosts', body: withVms('hv-bad', [vm('a', { memory: { backing: 'memfd-shmem', sizeMiB: -1 } })]), fields: ['vms.0.memory.sizeMiB'] },
    {
      name: 'an unknown backing and a malformed BDF',
      path: '/v1/hosts',
      body: withVms('hv-bad', [vm('a'), { ...vm('b', { devices: ['nope'] }), memory: { backing: 'tmpfs', sizeMiB: 1 } }]),
      fields: ['vms.1.devices.0', 'vms.1.memory.backing'],
    },
    { name: 'an id listed twice and a missing flag', path: '/v1/hosts', body: withVms('hv-bad', [vm('a'), { ...vm('a'), balloon: undefined }]), fields: ['vms.1.balloon'] },
    { name: 'an id listed twice', path: '/v1/hosts', body: withVms('hv-bad', [vm('a'), vm('a')]), fields: ['vms.1.id'] },
    { name: 'not an array', path: '/v1/hosts', body: withVms('hv-bad', { id: 'a' }), fields: ['vms'] },
    {
      name: 'batch: an unknown device in the second host',
      path: '/v1/hosts:batch',
      body: { hosts: [withVms('hv-bad', [vm('a')]), withVms('hv-bad2', [vm('b', { devices: ['0000:03:00.0'] })])] },
      fields: ['hosts.1.vms.0.devices.0'],
    },
  ];
  for (const c of bad) {
    it(`answers 400 naming the field for ${c.name}, and stores nothing`, async () => {
      const before = await inventorySnapshot(p);
      const res = await p.call('POST', c.path, { body: c.body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(issueFields(res.body)).toEqual(c.fields);
      expect(await inventorySnapshot(p)).toBe(before);
    });
  }
});
