import { buildPreservationSet } from '@luo-fleet/preservation';
import { generateHost } from '@luo-fleet/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, sharedGroupHost, singletonHost } from './host-topologies';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
  const zp = { rack: 'r1', zone: 'zp' };
  const res = await p.call('POST', '/v1/hosts:batch', {
    body: {
      hosts: [
        host('hv-p1', zp, singletonHost()),
        host('hv-p2', zp, physfnHost()),
        host('hv-p3', zp, sharedGroupHost()),
        host('hv-p4', zp),
        host('hv-p5', zp, singletonHost()),
        host('hv-other', { rack: 'r2', zone: 'zq' }, sharedGroupHost()),
      ],
    },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => p?.close());

describe('plans', () => {
  it('summarises the selected hosts under the default profile', async () => {
    const res = await p.call('POST', '/v1/plans', {
      as: 'viewer',
      body: { selector: 'zone=zp', devices: { 'hv-p5': ['01:00.0', '0000:07:00.0'] }, includeHosts: false },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      profile: 'singleton-group',
      strictAcs: false,
      summary: {
        hosts: 5,
        eligible: 1,
        ineligible: 3,
        unplanned: 1,
        devices: { requested: 7, preservable: 3, rejected: 4 },
        byReason: { NOT_FOUND: 1, IS_PHYSFN: 1, GROUP_NOT_SINGLETON: 2 },
        hostsByReason: { NOT_FOUND: 1, IS_PHYSFN: 1, GROUP_NOT_SINGLETON: 1 },
        vms: { total: 0, preservable: 0, rejected: 0, byReason: {}, hostsWithVms: 0, hostsAllPreservable: 0 },
      },
    });
  });

  it('judges under another rule profile', async () => {
    const res = await p.call('POST', '/v1/plans', { body: { selector: 'zone=zp', profile: 'acs-carried', includeHosts: false } });
    expect(res.status).toBe(200);
    expect(res.body.profile).toBe('acs-carried');
    // Without the singleton and PF rules the PF and the shared group pass.
    expect(res.body.summary).toMatchObject({ hosts: 5, eligible: 4, ineligible: 0, unplanned: 1 });
  });

  it('returns per-host PreservationSets a page at a time', async () => {
    const first = await p.call('POST', '/v1/plans', { body: { selector: 'zone=zp', limit: 2 } });
    expect(first.body.hosts.map((h: { id: string }) => h.id)).toEqual(['hv-p1', 'hv-p2']);
    expect(first.body.nextCursor).toBe('hv-p2');
    const p2 = first.body.hosts[1];
    expect(p2.eligible).toBe(false);
    expect(p2.preservation.devices).toEqual([
      expect.objectContaining({ bdf: '0000:01:00.0', preservable: false, reasons: ['IS_PHYSFN'] }),
      expect.objectContaining({ bdf: '0000:02:00.0', preservable: true, reasons: [] }),
    ]);
    // The summary always covers the whole selection, whatever the page.
    expect(first.body.summary.hosts).toBe(5);

    const second = await p.call('POST', '/v1/plans', { body: { selector: 'zone=zp', limit: 2, cursor: 'hv-p2' } });
    expect(second.body.hosts.map((h: { id: string }) => h.id)).toEqual(['hv-p3', 'hv-p4']);
    expect(second.body.hosts[1]).toMatchObject({ eligible: false, preservation: null, problem: expect.stringMatching(/no topology/) });
    const last = await p.call('POST', '/v1/plans', { body: { selector: 'zone=zp', limit: 2, cursor: 'hv-p4' } });
    expect(last.body.hosts.map((h: { id: string }) => h.id)).toEqual(['hv-p5']);
    expect(last.body.nextCursor).toBeNull();
  });

  it('matches the preservation library host by host on a generated fleet', async () => {
    const fleet = Array.from({ length: 40 }, (_, i) => generateHost(7, i));
    const res = await p.call('POST', '/v1/hosts:batch', {
      body: { hosts: fleet.map((g) => host(g.hostname, { ...g.labels, fleet: 'gen' }, g.topology)) },
    });
    expect(res.status).toBe(200);
    const expected = { hosts: 0, eligible: 0, ineligible: 0, byReason: {} as Record<string, number> };
    for (const g of fleet) {
      const set = buildPreservationSet(g.topology, undefined, { strictAcs: true });
      expected.hosts++;
      if (set.summary.eligible) expected.eligible++;
      else expected.ineligible++;
      for (const [reason, n] of Object.entries(set.summary.byReason)) expected.byReason[reason] = (expected.byReason[reason] ?? 0) + (n ?? 0);
    }
    const plan = await p.call('POST', '/v1/plans', { body: { selector: 'fleet=gen', strictAcs: true, includeHosts: false } });
    expect(plan.status).toBe(200);
    expect(plan.body.summary).toMatchObject({ hosts: expected.hosts, eligible: expected.eligible, ineligible: expected.ineligible, unplanned: 0 });
    expect(plan.body.summary.byReason).toEqual(expected.byReason);
    // The fleet is varied enough for the counts to mean something.
    expect(expected.eligible).toBeGreaterThan(0);
    expect(expected.ineligible).toBeGreaterThan(0);
  });
});
