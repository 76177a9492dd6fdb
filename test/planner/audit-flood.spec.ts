import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host } from './host-topologies';
import { requestFrom } from './raw-http';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

/*
 * Requests without a (valid) token, to routes that exist or not, cannot push an operator's calls
 * out of the audit log, and cannot fill Redis: they go to a refusal log that is clipped, written at
 * a bounded rate and capped in entries, while every one of them is still counted.
 */

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner({ LUO_FLEET_AUDIT_MAXLEN: '1000' });
});
afterAll(async () => p?.close());

/** `count` calls, `parallel` at a time. */
async function flood(count: number, parallel: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await send(next++);
  }));
}

describe('a flood of refused requests', () => {
  it("leaves an operator's audited DELETE in the audit log and Redis nearly as it was", async () => {
    expect((await p.call('POST', '/v1/hosts', { body: host('hv-kept', { rack: 'r1', zone: 'z1' }) })).status).toBe(201);
    expect((await p.call('DELETE', '/v1/hosts/hv-kept')).status).toBe(204);
    const long = 'a'.repeat(15 * 1024);

    await flood(1_300, 8, async (i) => {
      const res = await fetch(`${p.base}/v1/x/${long}${i}`, { method: 'POST' });
      expect(res.status).toBe(404);
      await res.arrayBuffer();
    });
    // From another address: past its burst of failures it is refused (429) until its budget refills.
    await flood(200, 8, async () => {
      const res = await requestFrom('127.0.0.2', p.base, 'DELETE', '/v1/hosts/hv-kept', { authorization: 'Bearer not-a-token-of-anyone' });
      expect([401, 429]).toContain(res.status);
    });

    // A refusal once the write budget has refilled carries the count of those left out since the last entry.
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${p.base}/v1/x/last`, { method: 'POST' })).status).toBe(404);

    const audit = (await p.call('GET', '/v1/audit?limit=1000')).body.entries as Array<{ actor: string; method: string; path: string; status: number }>;
    expect(audit.map((e) => `${e.actor} ${e.method} ${e.path} ${e.status}`)).toEqual(['alice DELETE /v1/hosts/hv-kept 204', 'alice POST /v1/hosts 201']);

    const refusals = (await p.call('GET', '/v1/audit/refusals?limit=1000')).body;
    expect(refusals.totals['no-such-route']).toBe(1_301);
    expect((refusals.totals['invalid-token'] ?? 0) + (refusals.totals['rate-limited'] ?? 0)).toBe(200);
    // Written at a bounded rate: the rest were counted, and the entries say how many were left out.
    const entries = refusals.entries as Array<{ reason: string; path: string; suppressed: number }>;
    expect(entries.length).toBeLessThan(1_000);
    expect(entries.length + entries.reduce((n, e) => n + e.suppressed, 0)).toBe(1_501);
    for (const e of entries) expect(e.path.length).toBeLessThanOrEqual(99);
    expect(entries[0].path).toBe('/v1/x/last');
    expect(entries.find((e) => e.path.startsWith('/v1/x/a'))?.path).toBe(`/v1/x/${'a'.repeat(90)}...`);

    // 1,300 x 15 KB of paths came in; the refusal log holds ~0.1 KB an entry.
    const bytes = Number(await p.redis.memory('USAGE', `${p.prefix}:audit:refused`)) + Number(await p.redis.memory('USAGE', `${p.prefix}:audit`));
    expect(bytes).toBeLessThan(512 * 1024);
  }, 60_000);
});
