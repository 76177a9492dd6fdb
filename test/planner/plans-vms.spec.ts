import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, singletonHost } from './host-topologies';
import { everyReasonVms, vm } from './host-vms';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
  const hosts = [
    { ...host('hv-v1', { rack: 'r1', zone: 'zv' }, physfnHost()), vms: everyReasonVms() },
    { ...host('hv-v2', { rack: 'r1', zone: 'zv' }, singletonHost()), vms: [vm('whole-1', { devices: ['0000:01:00.0'] }), vm('whole-2', { balloon: true })] },
    host('hv-v3', { rack: 'r1', zone: 'zv' }, singletonHost()),
  ];
  const res = await p.call('POST', '/v1/hosts:batch', { body: { hosts } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
});
afterAll(async () => p?.close());

describe('plans with VMs', () => {
  it("gives each VM its verdict with every design 4.5 reason code, in the host's order", async () => {
    const res = await p.call('POST', '/v1/plans', { as: 'viewer', body: { selector: 'zone=zv' } });
    expect(res.status).toBe(200);
    const [v1, v2, v3] = res.body.hosts;
    expect(v1.preservation.vms.map((v: { id: string; reasons: string[] }) => [v.id, v.reasons])).toEqual([
      ['vm-ok', []],
      ['vm-pf', ['DEVICE_NOT_PRESERVABLE']],
      ['vm-anon', ['MEMORY_NOT_MEMFD']],
      ['vm-huge', ['MEMORY_HUGETLB']],
      ['vm-balloon', ['IOAS_MUTABLE']],
    ]);
    expect(v1.preservation.vms[1]).toMatchObject({
      preservable: false,
      devices: ['0000:01:00.0'],
      rejectedDevices: [{ bdf: '0000:01:00.0', reasons: ['IS_PHYSFN'] }],
      details: { DEVICE_NOT_PRESERVABLE: '0000:01:00.0 IS_PHYSFN' },
    });
    expect(v1.preservation.summary.vms).toMatchObject({ total: 5, preservable: 1, rejected: 4 });
    expect(v2.preservation.vms.every((v: { preservable: boolean }) => v.preservable)).toBe(true);
    expect(v3.preservation.vms).toEqual([]);

    expect(res.body.summary.vms).toEqual({
      total: 7,
      preservable: 3,
      rejected: 4,
      byReason: { DEVICE_NOT_PRESERVABLE: 1, MEMORY_NOT_MEMFD: 1, MEMORY_HUGETLB: 1, IOAS_MUTABLE: 1 },
      hostsWithVms: 2,
      hostsAllPreservable: 1,
    });
  });

  it('judges a device a VM holds even when it is not bound to vfio-pci', async () => {
    // 0000:00:01.0 is the root port (alone in its group): requested by no one, held by a VM, so judged.
    const res = await p.call('POST', '/v1/hosts', { body: { ...host('hv-v4', { rack: 'r1', zone: 'zw' }, singletonHost()), vms: [vm('odd', { devices: ['0000:00:01.0'] })] } });
    expect(res.status).toBe(201);
    const plan = (await p.call('POST', '/v1/plans', { body: { selector: 'zone=zw' } })).body;
    expect(plan.hosts[0].preservation.devices.map((d: { bdf: string }) => d.bdf)).toEqual(['0000:01:00.0', '0000:00:01.0']);
    expect(plan.hosts[0].preservation.devices[1]).toMatchObject({ preservable: true, iommuGroup: 1 });
    expect(plan.hosts[0].preservation.vms[0]).toMatchObject({ id: 'odd', preservable: true, reasons: [] });
  });
});
