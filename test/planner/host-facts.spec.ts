import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetKeys } from '@luo-fleet/redis';
import { host, singletonHost } from './host-topologies';
import { inventorySnapshot, startPlanner, type PlannerUnderTest } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

const hostIn = (id: string, over: Record<string, unknown> = {}) => ({ ...host(id, { rack: `r-${id}`, zone: 'zf' }, singletonHost()), ...over });
const dryRun = (strategies?: string[]) => ({ selector: 'zone=zf', targetKernel: '6.14.0-luo', dryRun: true, ...(strategies ? { strategies } : {}) });

/** Host-level facts (design 4.1) in the inventory, and what the plan makes of them. */
describe('host facts: luoEnabled', () => {
  it('is stored when sent, read back, and absent when not sent', async () => {
    const res = await p.call('POST', '/v1/hosts:batch', { body: { hosts: [hostIn('hf-off', { luoEnabled: false }), hostIn('hf-on', { luoEnabled: true }), hostIn('hf-unknown')] } });
    expect(res.status).toBe(200);
    expect((await p.call('GET', '/v1/hosts/hf-off')).body.luoEnabled).toBe(false);
    expect((await p.call('GET', '/v1/hosts/hf-on')).body.luoEnabled).toBe(true);
    expect((await p.call('GET', '/v1/hosts/hf-unknown')).body).not.toHaveProperty('luoEnabled');
    // Registered again without the field: unknown again (a registration replaces the whole record).
    expect((await p.call('POST', '/v1/hosts', { body: hostIn('hf-on') })).status).toBe(200);
    expect((await p.call('GET', '/v1/hosts/hf-on')).body).not.toHaveProperty('luoEnabled');
  });

  it('refuses a value that is not a boolean with a 400 naming the field, and stores nothing', async () => {
    const before = await inventorySnapshot(p);
    const one = await p.call('POST', '/v1/hosts', { body: hostIn('hf-bad', { luoEnabled: 'no' }) });
    expect(one.status).toBe(400);
    expect(one.body.issues).toEqual([{ field: 'luoEnabled', problem: expect.stringContaining('true or false') }]);
    const batch = await p.call('POST', '/v1/hosts:batch', { body: { hosts: [hostIn('hf-bad'), hostIn('hf-bad2', { luoEnabled: 0 })] } });
    expect(batch.status).toBe(400);
    expect(batch.body.issues).toEqual([{ field: 'hosts.1.luoEnabled', problem: expect.stringContaining('true or false') }]);
    expect(await inventorySnapshot(p)).toEqual(before);
  });

  it('a dry run plans a LUO-disabled host by its next strategy, or skips it LUO_DISABLED; unknown plans as before', async () => {
    const evacuating = await p.call('POST', '/v1/rollouts', { body: dryRun(['live-update', 'live-update-restart', 'evacuate']) });
    expect(evacuating.status).toBe(200);
    const forecast = evacuating.body.plan.strategies;
    expect(forecast.byStrategy).toEqual({ 'live-update': { hosts: 2, vms: 0 }, evacuate: { hosts: 1, vms: 0 } });
    expect(forecast.passedOver).toEqual({ 'live-update': { LUO_DISABLED: 1 }, 'live-update-restart': { LUO_DISABLED: 1 } });

    const plain = await p.call('POST', '/v1/rollouts', { body: dryRun(['live-update']) });
    expect(plain.status).toBe(200);
    expect(plain.body.plan).toMatchObject({ hosts: 3, eligible: 2, skipped: 1, skippedByReason: { LUO_DISABLED: 1 } });
  });

  it('POST /v1/plans counts a LUO-disabled host ineligible, LUO_DISABLED, and names the code on its plan', async () => {
    const res = await p.call('POST', '/v1/plans', { as: 'viewer', body: { selector: 'zone=zf' } });
    expect(res.status).toBe(200);
    expect(res.body.summary).toMatchObject({ hosts: 3, eligible: 2, ineligible: 1, hostsByReason: { LUO_DISABLED: 1 } });
    const byId = new Map(res.body.hosts.map((h: { id: string }) => [h.id, h]));
    expect(byId.get('hf-off')).toMatchObject({ eligible: false, hostReasons: ['LUO_DISABLED'] });
    expect(byId.get('hf-on')).not.toHaveProperty('hostReasons');
  });

  it('reads a record stored before the field existed as unknown, which plans a Live Update', async () => {
    await p.redis.hdel(new FleetKeys(p.prefix).inventoryHost('hf-off'), 'luoEnabled');
    expect((await p.call('GET', '/v1/hosts/hf-off')).body).not.toHaveProperty('luoEnabled');
    const plain = await p.call('POST', '/v1/rollouts', { body: dryRun() });
    expect(plain.body.plan).toMatchObject({ hosts: 3, eligible: 3, skipped: 0 });
  });
});
