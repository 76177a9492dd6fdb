import { FleetKeys } from '@luo-fleet/redis';
import { openRolloutJobs, type BullRolloutJobs } from '@luo-fleet/jobs';
import { RolloutStore } from '@luo-fleet/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, singletonHost } from './host-topologies';
import { startPlanner, TOKENS, type PlannerUnderTest } from './planner-harness';

const MIN = 60_000;

let p: PlannerUnderTest;
let keys: FleetKeys;
let store: RolloutStore;
let coordinatorJobs: BullRolloutJobs;

/** Every key of this test's namespace but the audit and refusal logs (which record refused calls too, by design). */
async function stateKeys(): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of [`${p.prefix}:*`, `{${p.prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await p.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found.filter((k) => k !== `${p.prefix}:audit` && !k.startsWith(`${p.prefix}:audit:refused`)).sort();
}

/** POST /v1/rollouts with an Idempotency-Key (the harness' call() sends no extra headers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function createWithKey(key: string, body: unknown): Promise<{ status: number; body: any; replayed: string | null }> {
  const res = await fetch(`${p.base}/v1/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), replayed: res.headers.get('idempotent-replayed') };
}

const base = (over: Record<string, unknown> = {}) => ({ selector: 'zone=za', targetKernel: '6.14.0-luo', ...over });

beforeAll(async () => {
  p = await startPlanner();
  keys = new FleetKeys(p.prefix);
  store = new RolloutStore(p.redis, keys);
  coordinatorJobs = openRolloutJobs(p.redis, keys.bullPrefix());
  const za = (rack: string) => ({ rack, zone: 'za' });
  const res = await p.call('POST', '/v1/hosts:batch', {
    body: {
      hosts: [
        host('hv-a1', za('r1'), singletonHost()),
        host('hv-a2', za('r1'), singletonHost()),
        host('hv-a3', za('r2'), singletonHost()),
        host('hv-a4', za('r3'), singletonHost()),
        // A vfio-pci SR-IOV PF: not eligible under singleton-group, so skipped.
        host('hv-a5', za('r2'), physfnHost()),
        // No topology: cannot be planned, so skipped.
        host('hv-a6', za('r3')),
        host('hv-b1', { rack: 'r9', zone: 'zb' }, singletonHost()),
      ],
    },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await coordinatorJobs?.close();
  await p?.close();
});

describe('POST /v1/rollouts', () => {
  it('stores a scheduled rollout with resolved limits and a delayed coordinator job', async () => {
    const startAt = Date.now() + 10 * MIN;
    const res = await p.call('POST', '/v1/rollouts', {
      body: base({
        window: { startAt: new Date(startAt).toISOString(), durationMinutes: 120 },
        maxConcurrent: '50%',
        maxFailures: 1,
        canary: { batches: [1, '50%'] },
        maxPerFailureDomain: { key: 'rack', limit: 1 },
      }),
    });
    expect(res.status).toBe(201);
    const { rollout, plan } = res.body;
    expect(res.body.dryRun).toBe(false);
    // 4 eligible: 50% of 4 is 2; canary 1, then 50% (2), then the remaining 1.
    expect(rollout.limits).toEqual({ maxConcurrent: 2, maxFailures: 1, batches: [1, 2, 1] });
    expect(plan).toMatchObject({ hosts: 6, eligible: 4, skipped: 2, skippedByReason: { IS_PHYSFN: 1, NO_TOPOLOGY: 1 } });
    const endAt = startAt + 120 * MIN;
    expect(rollout.spec.window).toEqual({ startAt, endAt, cutoffAt: endAt - 12 * MIN });
    expect(rollout.spec).toMatchObject({ profile: 'singleton-group', strictAcs: false, dryRun: false, maxPerFailureDomain: { key: 'rack', limit: 1 } });
    expect(rollout.createdBy).toBe('alice');

    const view = await store.get(rollout.id);
    expect(view).toMatchObject({ id: rollout.id, status: 'scheduled', hostCount: 6, limits: rollout.limits, hostsByState: { pending: 4, skipped: 2 } });

    const job = await coordinatorJobs.find(rollout.id);
    expect(job?.data).toEqual({ rolloutId: rollout.id });
    expect(job?.state).toBe('delayed');
    // Delayed until the window opens (minus the time the request took).
    expect(job!.delayMs).toBeGreaterThan(10 * MIN - 30_000);
    expect(job!.delayMs).toBeLessThanOrEqual(10 * MIN);

    const got = await p.call('GET', `/v1/rollouts/${rollout.id}`, { as: 'viewer' });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: rollout.id, status: 'scheduled', inflight: 0, failures: 0, finished: 2 });
  });

  it('fills the defaults: now, 240 minutes, 10% cutoff, 10%/5% limits, canary [1, 5%]', async () => {
    const before = Date.now();
    const res = await p.call('POST', '/v1/rollouts', { body: base({ dryRun: true }) });
    expect(res.status).toBe(200);
    const w = res.body.rollout.spec.window;
    expect(w.startAt).toBeGreaterThanOrEqual(before);
    expect(w.endAt - w.startAt).toBe(240 * MIN);
    expect(w.endAt - w.cutoffAt).toBe(24 * MIN);
    expect(res.body.rollout.spec).toMatchObject({ maxConcurrent: '10%', maxFailures: '5%', canary: { batches: [1, '5%'], requireApproval: false } });
    expect(res.body.rollout.limits).toEqual({ maxConcurrent: 1, maxFailures: 1, batches: [1, 1, 2] });
  });

  it('a dry run returns the plan and schedule and stores nothing', async () => {
    const before = await stateKeys();
    const res = await p.call('POST', '/v1/rollouts', {
      body: base({ dryRun: true, maxConcurrent: 2, canary: { batches: [1], requireApproval: true } }),
      // A dry run does not take up an idempotency key either.
    });
    expect(res.status).toBe(200);
    expect(res.body.dryRun).toBe(true);
    expect(res.body.plan.schedule.batches).toEqual([
      expect.objectContaining({ batch: 0, hosts: 1, waitsForApproval: false }),
      expect.objectContaining({ batch: 1, hosts: 3, waitsForApproval: true }),
    ]);
    expect(await stateKeys()).toEqual(before);
    expect(await store.get(res.body.rollout.id)).toBeNull();
    expect(await coordinatorJobs.find(res.body.rollout.id)).toBeUndefined();
  });

  it('with an Idempotency-Key: one rollout, the same answer on a repeat, 409 for another body', async () => {
    const key = `create-${Date.now()}`;
    const send = (body: unknown) => createWithKey(key, body);
    const countBefore = (await store.list(1000)).length;
    const first = await send(base({ maxConcurrent: 1 }));
    expect(first.status).toBe(201);
    // Same body with its keys in another order: the same request.
    const again = await send({ maxConcurrent: 1, targetKernel: '6.14.0-luo', selector: 'zone=za' });
    expect(again).toEqual({ status: 201, body: first.body, replayed: 'true' });
    expect(first.replayed).toBeNull();
    expect((await store.list(1000)).length).toBe(countBefore + 1);

    const other = await send(base({ maxConcurrent: 2 }));
    expect(other.status).toBe(409);
    expect(other.body.issues).toEqual([{ field: 'Idempotency-Key', problem: expect.stringMatching(/different request body/) }]);
    expect((await store.list(1000)).length).toBe(countBefore + 1);
  });

  it('racing requests with one key make one rollout', async () => {
    const key = `race-${Date.now()}`;
    const countBefore = (await store.list(1000)).length;
    const answers = await Promise.all(
      [0, 1, 2].map(() => createWithKey(key, base())),
    );
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(1);
    for (const a of answers) expect([201, 409]).toContain(a.status);
    expect(new Set(answers.filter((a) => a.status === 201).map((a) => a.body.rollout.id)).size).toBe(1);
    expect((await store.list(1000)).length).toBe(countBefore + 1);
  });

  describe('refuses bad bodies with a 400 naming the field, changing nothing', () => {
    const soon = () => Date.now() + 60 * MIN;
    const cases: Array<[string, () => Record<string, unknown>, string[]]> = [
      ['window end before start', () => base({ window: { startAt: soon() + 60 * MIN, endAt: soon() } }), ['window.endAt']],
      ['window end in the past', () => base({ window: { startAt: Date.now() - 120 * MIN, endAt: new Date(Date.now() - 60 * MIN).toISOString() } }), ['window.endAt']],
      ['cutoff after the end', () => base({ window: { endAt: soon(), cutoffAt: soon() + MIN } }), ['window.cutoffAt']],
      ['cutoff before the start', () => base({ window: { startAt: soon(), durationMinutes: 60, cutoffAt: soon() - 10 * MIN } }), ['window.cutoffAt']],
      ['both endAt and durationMinutes', () => base({ window: { endAt: soon(), durationMinutes: 30 } }), ['window']],
      ['a zone-less time', () => base({ window: { startAt: '2030-01-01T10:00:00' } }), ['window.startAt']],
      ['durationMinutes 0', () => base({ window: { durationMinutes: 0 } }), ['window.durationMinutes']],
      ['maxConcurrent 0', () => base({ maxConcurrent: 0 }), ['maxConcurrent']],
      ['maxFailures 0%', () => base({ maxFailures: '0%' }), ['maxFailures']],
      ['maxConcurrent 150%', () => base({ maxConcurrent: '150%' }), ['maxConcurrent']],
      ['canary batch 2.5', () => base({ canary: { batches: [1, 2.5] } }), ['canary.batches.1']],
      ['no canary batches', () => base({ canary: { batches: [] } }), ['canary.batches']],
      ['11 canary batches', () => base({ canary: { batches: Array(11).fill(1) } }), ['canary.batches']],
      ['malformed selector', () => base({ selector: 'zone in (za' }), ['selector']],
      ['empty selector', () => base({ selector: '' }), ['selector']],
      ['selector matching no host', () => base({ selector: 'zone=nowhere' }), ['selector']],
      ['unknown profile', () => base({ profile: 'no-such-profile' }), ['profile']],
      ['bad kernel name', () => base({ targetKernel: '6.14 rc1' }), ['targetKernel']],
      ['domain limit 0 and a bad key', () => base({ maxPerFailureDomain: { key: 'Rack!', limit: 0 } }), ['maxPerFailureDomain.key', 'maxPerFailureDomain.limit']],
      ['a fault probability above 1', () => base({ simulatedFaults: { pHang: 1.5 } }), ['simulatedFaults.pHang']],
      ['an unknown fault kind', () => base({ simulatedFaults: { pMeteor: 0.1 } }), ['simulatedFaults.pMeteor']],
      ['an unknown field', () => base({ concurrency: 3 }), ['concurrency']],
      ['several at once', () => ({ targetKernel: '', maxConcurrent: 0 }), ['selector', 'targetKernel', 'maxConcurrent']],
    ];
    it.each(cases)('%s', async (_name, body, fields) => {
      const before = await stateKeys();
      const res = await p.call('POST', '/v1/rollouts', { body: body() });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([...fields].sort());
      expect(JSON.stringify(res.body)).not.toMatch(/ at .*\.ts:\d+/);
      expect(await stateKeys()).toEqual(before);
    });

    it('a malformed Idempotency-Key', async () => {
      const before = await stateKeys();
      const res = await createWithKey('k'.repeat(201), base());
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([{ field: 'Idempotency-Key', problem: expect.any(String) }]);
      expect(await stateKeys()).toEqual(before);
    });
  });

  it('needs a token, and the operator role', async () => {
    const before = await stateKeys();
    expect((await p.call('POST', '/v1/rollouts', { as: 'none', body: base() })).status).toBe(401);
    expect((await p.call('POST', '/v1/rollouts', { as: 'wrong-token', body: base() })).status).toBe(401);
    const viewer = await p.call('POST', '/v1/rollouts', { as: 'viewer', body: base() });
    expect(viewer.status).toBe(403);
    expect(viewer.body.message).toMatch(/needs operator/);
    expect(await stateKeys()).toEqual(before);
  });
});

describe('reading rollouts', () => {
  let id: string;
  beforeAll(async () => {
    const res = await p.call('POST', '/v1/rollouts', { body: base({ targetKernel: '6.15.0' }) });
    expect(res.status).toBe(201);
    id = res.body.rollout.id;
  });

  it('lists newest first', async () => {
    const res = await p.call('GET', '/v1/rollouts?limit=2', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body.rollouts).toHaveLength(2);
    expect(res.body.rollouts[0].id).toBe(id);
    expect(res.body.rollouts[0].createdAt).toBeGreaterThanOrEqual(res.body.rollouts[1].createdAt);
    expect((await p.call('GET', '/v1/rollouts?limit=0', { as: 'viewer' })).body.issues).toEqual([{ field: 'limit', problem: expect.any(String) }]);
  });

  it('404 names an unknown id; 400 a malformed one', async () => {
    const res = await p.call('GET', '/v1/rollouts/no-such-rollout', { as: 'viewer' });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('no-such-rollout');
    expect((await p.call('GET', '/v1/rollouts/no-such-rollout/hosts', { as: 'viewer' })).status).toBe(404);
    expect((await p.call('GET', '/v1/rollouts/no-such-rollout/events', { as: 'viewer' })).status).toBe(404);
    const bad = await p.call('GET', `/v1/rollouts/${encodeURIComponent('a}b')}`, { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].field).toBe('id');
  });

  it('pages hosts exactly, with a state filter', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await p.call('GET', `/v1/rollouts/${id}/hosts?${q}`, { as: 'viewer' });
      expect(res.status).toBe(200);
      expect(res.body.hosts.length).toBeLessThanOrEqual(4);
      seen.push(...res.body.hosts.map((h: { hostId: string }) => h.hostId));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual(['hv-a1', 'hv-a2', 'hv-a3', 'hv-a4', 'hv-a5', 'hv-a6']);

    const skipped = await p.call('GET', `/v1/rollouts/${id}/hosts?state=skipped`, { as: 'viewer' });
    expect(skipped.body.nextCursor).toBeNull();
    expect(skipped.body.hosts.map((h: { hostId: string }) => h.hostId).sort()).toEqual(['hv-a5', 'hv-a6']);
    expect(skipped.body.hosts.find((h: { hostId: string }) => h.hostId === 'hv-a5')).toMatchObject({ state: 'skipped', outcome: 'skipped', reasons: ['IS_PHYSFN'] });

    const bad = await p.call('GET', `/v1/rollouts/${id}/hosts?limit=1001&state=Bad`, { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['limit', 'state']);
  });

  it('returns the newest events as objects', async () => {
    const res = await p.call('GET', `/v1/rollouts/${id}/events?limit=1`, { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body.events).toHaveLength(1);
    const all = await p.call('GET', `/v1/rollouts/${id}/events`, { as: 'viewer' });
    // The skipped hosts' outcomes are journalled at creation.
    expect(all.body.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ host: 'hv-a5', type: 'outcome', outcome: 'skipped', reasons: ['IS_PHYSFN'], at: expect.any(Number) })]),
    );
    expect(all.body.events[0].id).toBe(res.body.events[0].id);
  });
});

describe('controlling a rollout', () => {
  let id: string;
  beforeAll(async () => {
    const res = await p.call('POST', '/v1/rollouts', { body: base({ canary: { batches: [1], requireApproval: true } }) });
    expect(res.status).toBe(201);
    id = res.body.rollout.id;
  });
  const act = (action: string, as: 'operator' | 'viewer' = 'operator') => p.call('POST', `/v1/rollouts/${id}/${action}`, { as });

  it('pause, resume, approve, abort where they apply; 409 naming the status where not', async () => {
    const notYet = await act('approve');
    expect(notYet.status).toBe(409);
    expect(notYet.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'cannot approve: rollout is scheduled',
      issues: [{ field: 'status', problem: expect.stringMatching(/awaiting_approval/) }],
    });
    expect(await act('pause')).toMatchObject({ status: 200, body: { id, status: 'paused' } });
    expect((await act('pause')).body.message).toBe('cannot pause: rollout is paused');
    // A paused scheduled rollout resumes to waiting for its window.
    expect(await act('resume')).toMatchObject({ status: 200, body: { id, status: 'scheduled' } });

    // What the coordinator does when a canary batch finishes.
    await p.redis.hset(keys.admission(id), 'status', 'awaiting_approval');
    expect(await act('approve')).toMatchObject({ status: 200, body: { id, status: 'running' } });
    const again = await act('approve');
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('cannot approve: rollout is running');
    expect(await store.status(id)).toBe('running');

    expect(await act('abort')).toMatchObject({ status: 200, body: { id, status: 'aborted' } });
    expect((await act('resume')).body.message).toBe('cannot resume: rollout is aborted');
    expect((await p.call('GET', `/v1/rollouts/${id}`, { as: 'viewer' })).body).toMatchObject({ status: 'aborted', statusReason: 'abort by operator' });
  });

  it('viewers cannot control; unknown ids are 404', async () => {
    const before = await stateKeys();
    const res = await act('pause', 'viewer');
    expect(res.status).toBe(403);
    expect(await stateKeys()).toEqual(before);
    const unknown = await p.call('POST', '/v1/rollouts/nope/abort');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('nope');
    expect(await p.redis.exists(keys.admission('nope'))).toBe(0);
  });

  it('audits creation and control with the rollout id', async () => {
    await act('abort'); // refused (already aborted) but audited
    const res = await p.call('GET', '/v1/audit?limit=200', { as: 'viewer' });
    const entries = res.body.entries as Array<{ path: string; method: string; status: number; target: Record<string, unknown>; actor: string }>;
    expect(entries.find((e) => e.path === '/v1/rollouts' && e.status === 201 && e.target.rollout === id)).toMatchObject({ actor: 'alice', method: 'POST' });
    expect(entries.find((e) => e.path === `/v1/rollouts/${id}/pause` && e.status === 200)?.target).toEqual({ rollout: id });
    expect(entries.find((e) => e.path === `/v1/rollouts/${id}/abort` && e.status === 409)?.target).toEqual({ rollout: id });
    const refused = (await p.call('GET', '/v1/audit/refusals?limit=200', { as: 'viewer' })).body.entries as Array<{ path: string; status: number }>;
    expect(refused.find((e) => e.path === `/v1/rollouts/${id}/pause` && e.status === 403)).toMatchObject({ actor: 'victor', reason: 'forbidden', method: 'POST' });
  });
});

it('documents the rollout API in OpenAPI', async () => {
  const res = await p.call('GET', '/docs-json', { as: 'none' });
  expect(res.status).toBe(200);
  const paths = res.body.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>>;
  for (const path of ['/v1/rollouts', '/v1/rollouts/{id}', '/v1/rollouts/{id}/hosts', '/v1/rollouts/{id}/events', '/v1/rollouts/{id}/pause', '/v1/rollouts/{id}/approve']) {
    expect(paths[path], path).toBeDefined();
  }
  const body = paths['/v1/rollouts'].post.requestBody!.content['application/json'].schema;
  expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['selector', 'targetKernel', 'window', 'maxConcurrent', 'canary', 'maxPerFailureDomain', 'simulatedFaults']));
});
