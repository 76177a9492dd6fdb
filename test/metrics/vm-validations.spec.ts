import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, singletonHost } from '../planner/host-topologies';
import { everyReasonVms, vm } from '../planner/host-vms';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { scrape, valueOf } from './exposition';
import { createMetricsApp } from './metrics-app-under-test';
import { REDIS_URL } from './redis-fixture';

/*
 * luo_fleet_vm_validations_total (design 4.4): the planner counts each rollout's VM verdicts at plan
 * time into the rollout's stats hash, beside the device counts; the exporter sums them fleet-wide.
 */

let p: PlannerUnderTest;
const rollouts: Array<{ id: string; plan: { vms: unknown } }> = [];

beforeAll(async () => {
  p = await startPlanner();
  const zm = { rack: 'r1', zone: 'zm' };
  const res = await p.call('POST', '/v1/hosts:batch', {
    body: {
      hosts: [
        { ...host('hv-m1', zm, physfnHost()), vms: everyReasonVms() },
        { ...host('hv-m2', zm, singletonHost()), vms: [vm('a', { devices: ['0000:01:00.0'] }), vm('b', { balloon: true })] },
        host('hv-m3', zm, singletonHost()),
      ],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  for (let i = 0; i < 2; i++) {
    const created = await p.call('POST', '/v1/rollouts', { body: { selector: 'zone=zm', targetKernel: '6.14.0-luo', window: { startAt: Date.now() + 3_600_000 } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    rollouts.push({ id: created.body.rollout.id, plan: created.body.plan });
  }
}, 60_000);
afterAll(async () => p?.close());

const BY_REASON = { DEVICE_NOT_PRESERVABLE: 1, MEMORY_NOT_MEMFD: 1, MEMORY_HUGETLB: 1, IOAS_MUTABLE: 1 };

describe('VM verdicts of rollouts', () => {
  it('are in the rollout plan and in the rollout status', async () => {
    expect(rollouts[0].plan.vms).toEqual({ total: 7, preservable: 3, rejected: 4, byReason: BY_REASON });
    const view = (await p.call('GET', `/v1/rollouts/${rollouts[0].id}`, { as: 'viewer' })).body;
    expect(view.vms).toEqual({ total: 7, preservable: 3, rejected: 4, byFirstReason: BY_REASON });
  });

  it('are counted fleet-wide as luo_fleet_vm_validations_total, without a host label, across a restart of the exporter', async () => {
    for (let run = 0; run < 2; run++) {
      const metrics = await createMetricsApp({ redis: { url: REDIS_URL, prefix: p.prefix }, host: '127.0.0.1', port: 0 }, ['error']);
      try {
        const s = await scrape(metrics.url);
        const v = (result: string, reason: string) => valueOf(s, 'luo_fleet_vm_validations_total', { stage: 'plan', result, reason });
        expect(v('preservable', 'none')).toBe(6);
        for (const reason of Object.keys(BY_REASON)) expect(v('rejected', reason), reason).toBe(2);
        const series = s.filter((x) => x.name === 'luo_fleet_vm_validations_total');
        expect(series).toHaveLength(5);
        for (const x of series) expect(Object.keys(x.labels).sort()).toEqual(['reason', 'result', 'stage']);
        // The device counts beside them are unchanged by VMs: the PF and the two singletons.
        expect(valueOf(s, 'luo_fleet_device_validations_total', { stage: 'plan', result: 'rejected', reason: 'IS_PHYSFN' })).toBe(2);
      } finally {
        await metrics.close();
      }
    }
  });
});
