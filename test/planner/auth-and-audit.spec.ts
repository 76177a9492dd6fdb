import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host } from './host-topologies';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

let p: PlannerUnderTest;
beforeAll(async () => {
  p = await startPlanner();
});
afterAll(async () => p?.close());

const hostCount = async () => (await p.redis.zcard(`${p.prefix}:{inventory}:ids`)) as number;

describe('authentication', () => {
  it('refuses a request without a token with 401 JSON and a WWW-Authenticate challenge', async () => {
    const res = await p.call('GET', '/v1/hosts', { as: 'none' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(res.body.message).toMatch(/missing bearer token/);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses a wrong token, and a header that is not Bearer', async () => {
    const wrong = await p.call('GET', '/v1/hosts', { as: 'not-a-configured-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('invalid bearer token');
    const res = await fetch(`${p.base}/v1/hosts`, { headers: { authorization: 'Basic YWxpY2U6cHc=' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/not of the form/);
  });

  it('lets a viewer read but answers 403 to a viewer POST, and stores nothing', async () => {
    expect((await p.call('GET', '/v1/hosts', { as: 'viewer' })).status).toBe(200);
    const before = await hostCount();
    const res = await p.call('POST', '/v1/hosts', { as: 'viewer', body: host('hv-viewer', { rack: 'r1', zone: 'z1' }) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect(res.body.message).toMatch(/victor has role viewer.*needs operator/);
    expect(await hostCount()).toBe(before);
    expect((await p.call('DELETE', '/v1/hosts/hv-viewer', { as: 'viewer' })).status).toBe(403);
  });

  it('keeps /health and the OpenAPI document public', async () => {
    const health = await p.call('GET', '/health', { as: 'none' });
    expect(health.status).toBe(200);
    expect(health.body.info.redis.status).toBe('up');
    const doc = await p.call('GET', '/docs-json', { as: 'none' });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/hosts', '/v1/hosts:batch', '/v1/hosts/{id}', '/v1/plans', '/v1/audit']));
    const hostBody = doc.body.paths['/v1/hosts'].post.requestBody.content['application/json'].schema;
    expect(hostBody.required).toEqual(['id', 'labels']);
    expect(hostBody.properties.topology.properties.devices.type).toBe('array');
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('audit log', () => {
  it('records the mutations of authorized callers, newest first, with who, what and the status', async () => {
    await p.call('POST', '/v1/hosts', { body: host('hv-audit-0', { rack: 'r9', zone: 'z9' }) });
    await p.call('POST', '/v1/hosts', { body: host('hv-audit-1', { rack: 'r9', zone: 'z9' }) });
    await p.call('POST', '/v1/hosts', { as: 'viewer', body: host('hv-audit-2', { rack: 'r9', zone: 'z9' }) });
    await p.call('POST', '/v1/hosts', { body: { id: 'Bad_Id', labels: { rack: 'r9', zone: 'z9' } } });
    await p.call('DELETE', '/v1/hosts/hv-audit-1', { as: 'none' });
    await p.call('DELETE', '/v1/hosts/hv-audit-1');
    await p.call('GET', '/v1/hosts');

    const res = await p.call('GET', '/v1/audit?limit=3', { as: 'viewer' });
    expect(res.status).toBe(200);
    const entries = res.body.entries.map((e: Record<string, unknown>) => ({ actor: e.actor, role: e.role, method: e.method, path: e.path, target: e.target, status: e.status }));
    expect(entries).toEqual([
      { actor: 'alice', role: 'operator', method: 'DELETE', path: '/v1/hosts/hv-audit-1', target: { host: 'hv-audit-1' }, status: 204 },
      { actor: 'alice', role: 'operator', method: 'POST', path: '/v1/hosts', target: { host: 'Bad_Id' }, status: 400 },
      { actor: 'alice', role: 'operator', method: 'POST', path: '/v1/hosts', target: { host: 'hv-audit-1' }, status: 201 },
    ]);
    for (const e of res.body.entries) expect(Date.parse(e.at)).not.toBeNaN();
    expect(res.body.nextBefore).toBe(res.body.entries[2].id);
  });

  it('keeps refused requests apart, with the reason, who (when the token was valid) and from where', async () => {
    const res = await p.call('GET', '/v1/audit/refusals?limit=2', { as: 'viewer' });
    expect(res.status).toBe(200);
    const entries = res.body.entries.map((e: Record<string, unknown>) => ({ reason: e.reason, actor: e.actor, method: e.method, path: e.path, status: e.status, client: e.client }));
    expect(entries).toEqual([
      { reason: 'missing-token', actor: null, method: 'DELETE', path: '/v1/hosts/hv-audit-1', status: 401, client: '127.0.0.1' },
      { reason: 'forbidden', actor: 'victor', method: 'POST', path: '/v1/hosts', status: 403, client: '127.0.0.1' },
    ]);
    for (const e of res.body.entries) expect(Date.parse(e.at)).not.toBeNaN();
    // Every refusal of this planner so far, reads included: the authentication tests above and this one.
    expect(res.body.totals).toEqual({ 'missing-token': 2, 'invalid-token': 1, 'malformed-header': 1, forbidden: 3 });
    expect(res.body.nextBefore).toBe(res.body.entries[1].id);
  });

  it('pages back with before, exclusive of the entry named', async () => {
    const all = (await p.call('GET', '/v1/audit?limit=1000')).body.entries;
    expect(all.length).toBeGreaterThanOrEqual(4);
    const page = await p.call('GET', `/v1/audit?limit=2&before=${all[1].id}`);
    expect(page.body.entries.map((e: { id: string }) => e.id)).toEqual([all[2].id, all[3].id]);
  });

  it('records a malformed JSON body that never reached a route', async () => {
    const res = await p.call('POST', '/v1/hosts:batch', { raw: '{"hosts": [' });
    expect(res.status).toBe(400);
    const [latest] = (await p.call('GET', '/v1/audit?limit=1')).body.entries;
    expect(latest).toMatchObject({ method: 'POST', path: '/v1/hosts:batch', status: 400 });
  });

  it('answers 400 naming limit and before when they are wrong', async () => {
    const res = await p.call('GET', '/v1/audit?limit=0&before=yesterday');
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['before', 'limit']);
  });
});
