import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_STEPS, signRequest } from '@luo-fleet/handover';
import { createPlannerApp } from '../../apps/planner/src/planner-app';
import { plannerSettingsFromEnv } from '../../apps/planner/src/planner-settings';
import { createAgentApp, type AgentApp } from '../../apps/agent/src/agent-app';
import { parseAgentConfig } from '../../apps/agent/src/config/agent-config';
import { host, physfnHost, singletonHost } from './host-topologies';
import { bodyText, dirSnapshot, malformed, privateRedis, redisSnapshot, type Mutated } from './fuzz-support';
import { requestFrom } from './raw-http';
import { agentPathsIn } from '../agent/support/agent-paths';

/*
 * Thousands of malformed bodies (mutations of valid ones) against the planner and the agent: none
 * may get a 5xx, every 400 names a field in issues[].field, and a refused request changes nothing
 * (every Redis key but the audit stream, every file of the agent's state dir). A mutation that
 * happens to be valid may succeed; only refusals are held to "no change". Then requests without a
 * valid token, to any path: refused without a trace but the refusal log's.
 */

const PREFIX = 'luo-fuzz';
const TOKEN = `op-${randomBytes(12).toString('hex')}`;

let redis: Awaited<ReturnType<typeof privateRedis>>;
let planner: INestApplication;
let base = '';

beforeAll(async () => {
  redis = await privateRedis();
  planner = await createPlannerApp(plannerSettingsFromEnv({ REDIS_URL: redis.url, LUO_FLEET_PREFIX: PREFIX, LUO_FLEET_TOKENS: `fuzz:operator:${TOKEN}` }), { logger: false });
  await planner.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(planner.getHttpServer().address() as AddressInfo).port}`;
  const res = await send('/v1/hosts:batch', { json: { hosts: [host('hv-keep', { rack: 'r1', zone: 'z1', fleet: 'fz' }, singletonHost()), host('hv-pf', { rack: 'r2', zone: 'z1', fleet: 'fz' }, physfnHost())] } });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await planner?.close();
  await redis?.stop();
});

async function send(path: string, body: Mutated, headers: Record<string, string> = {}, url = base): Promise<{ status: number; body: { issues?: { field?: unknown }[] } | string }> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: bodyText(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Answers by status, per endpoint: a property that passes because nothing was refused proves nothing. */
const statuses = new Map<string, Map<number, number>>();

/** The contract for one answer; returns nothing, throws (with the request) on a violation. */
function expectContract(what: string, sent: Mutated, res: Awaited<ReturnType<typeof send>>, before: string, after: string): void {
  const seen = statuses.get(what.replace(/steps\/\w+/, 'steps/:step')) ?? new Map<number, number>();
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  statuses.set(what.replace(/steps\/\w+/, 'steps/:step'), seen);
  const show = `${what} ${bodyText(sent).slice(0, 400)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;
  expect(res.status, show).toBeLessThan(500);
  if (res.status === 400) {
    const issues = typeof res.body === 'object' ? res.body.issues : undefined;
    expect(Array.isArray(issues) && issues.some((i) => typeof i.field === 'string' && i.field.length > 0), show).toBe(true);
  }
  if (res.status >= 400) expect(after === before, `state changed by a refused request: ${show}`).toBe(true);
}

function expectMostlyRefused(what: string): void {
  const seen = statuses.get(what) ?? new Map<number, number>();
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(RUNS);
  expect(seen.get(400) ?? 0, `${what}: ${JSON.stringify([...seen])}`).toBeGreaterThan(RUNS / 2);
}

const isRefusalLog = (key: string) => key.startsWith(`${PREFIX}:audit:refused`);
const notAudit = (key: string) => key === `${PREFIX}:audit` || isRefusalLog(key);

const VALID: Record<string, unknown> = {
  '/v1/hosts': host('hv-new', { rack: 'r3', zone: 'z2', fleet: 'fz' }, singletonHost()),
  '/v1/hosts:batch': { hosts: [host('hv-b1', { rack: 'r1', zone: 'z1' }, physfnHost()), host('hv-b2', { rack: 'r2', zone: 'z1' }, singletonHost())] },
  '/v1/plans': { selector: 'fleet=fz', profile: 'singleton-group', strictAcs: false, devices: { 'hv-keep': ['0000:01:00.0'] } },
  // dryRun: a mutation that stays valid plans without storing; one that flips dryRun stores a rollout (allowed).
  '/v1/rollouts': {
    selector: 'fleet=fz',
    targetKernel: '6.18.0-luo',
    window: { durationMinutes: 60 },
    maxConcurrent: 2,
    maxFailures: '10%',
    canary: { batches: [1, '50%'], requireApproval: false },
    maxPerFailureDomain: { key: 'rack', limit: 1 },
    dryRun: true,
    simulatedFaults: { pFailPreKexec: 0.1, pHang: 0 },
    seed: 3,
  },
};

/** An agent-backed host registered without asking its agent (topology null): mutations meet the agent-address rule. */
const AGENT_HOST = { id: 'hv-agent-reg', labels: { rack: 'r4', zone: 'z3' }, driver: { kind: 'agent', url: 'http://127.0.0.1:7450' }, topology: null };

/** Runs per endpoint: 5 x 400 on the planner, 400 on the agent and 400 without a token, 2,800 in all. */
const RUNS = 400;

describe('planner API under malformed bodies', () => {
  for (const [path, valid] of Object.entries(VALID)) {
    it(`POST ${path}: no 5xx, 400s name a field, refusals change nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(malformed(valid), async (body) => {
          const before = await redisSnapshot(redis.redis, notAudit);
          const res = await send(path, body);
          expectContract(`POST ${path}`, body, res, before, await redisSnapshot(redis.redis, notAudit));
        }),
        { numRuns: RUNS, seed: 20_240_611 },
      );
      expectMostlyRefused(`POST ${path}`);
    }, 120_000);
  }

  it('POST /v1/hosts with an agent driver: no 5xx, 400s name a field, refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(malformed(AGENT_HOST), async (body) => {
        const before = await redisSnapshot(redis.redis, notAudit);
        const res = await send('/v1/hosts', body);
        expectContract('POST /v1/hosts (agent)', body, res, before, await redisSnapshot(redis.redis, notAudit));
      }),
      { numRuns: RUNS, seed: 20_240_613 },
    );
    expectMostlyRefused('POST /v1/hosts (agent)');
  }, 120_000);
});

describe('agent step API under malformed bodies with a valid signature', () => {
  let dir: string;
  let agent: AgentApp;
  let secret: Buffer;
  const HOST = 'hv-agent';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-fuzz-agent-'));
    secret = Buffer.from(randomBytes(32).toString('hex'));
    writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
    mkdirSync(join(dir, 'state'));
    // Hooks that do nothing: a mutation that stays valid runs one and is answered 2xx.
    const hook = { command: '/bin/true', args: [], timeoutMs: 5_000 };
    const config = parseAgentConfig({
      hostId: HOST,
      listen: { host: '127.0.0.1', port: 0 },
      ...agentPathsIn(dir),
      hooks: Object.fromEntries([...AGENT_STEPS, 'incoming'].map((s) => [s, hook])),
    });
    agent = await createAgentApp(config, secret, ['error']);
  });

  afterAll(async () => {
    await agent?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const valid = {
    requestId: 'req-1',
    handoverId: 'r1.hv-agent',
    hostId: HOST,
    rolloutId: 'r1',
    targetKernel: '6.18.0-luo',
    preservationSet: { devices: [{ bdf: '0000:01:00.0', preservable: true }, { bdf: '0000:02:00.0', preservable: false }] },
  };

  it('POST /v1/steps/:step: no 5xx, 400s name a field, refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...AGENT_STEPS), malformed(valid), async (step, body) => {
        const path = `/v1/steps/${step}`;
        const before = dirSnapshot(join(dir, 'state'));
        const headers = signRequest(secret, { method: 'POST', path, body: bodyText(body) });
        const res = await send(path, body, headers, agent.url);
        expectContract(`POST ${path}`, body, res, before, dirSnapshot(join(dir, 'state')));
      }),
      { numRuns: RUNS, seed: 20_240_612 },
    );
    expectMostlyRefused('POST /v1/steps/:step');
  }, 120_000);
});

describe('planner API without a valid token', () => {
  const SEGMENT = fc.oneof(fc.stringMatching(/^[a-z0-9:._~-]{0,24}$/), fc.constantFrom('v1', 'hosts', 'hosts:batch', 'plans', 'rollouts', 'audit', '__proto__', 'constructor'));
  const path = fc.oneof(
    fc.constantFrom('/v1/hosts', '/v1/hosts:batch', '/v1/plans', '/v1/rollouts', '/v1/hosts/hv-keep', '/v1/hosts/hv-keep/topology:refresh'),
    fc.array(SEGMENT, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`),
    fc.nat({ max: 15 * 1024 }).map((n) => `/v1/x/${'a'.repeat(n)}`),
  );
  const authorization = fc.constantFrom<string | undefined>(undefined, '', 'Bearer', 'Bearer not-a-token-of-anyone', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `bearer  ${TOKEN.slice(1)}`);

  it('mutating requests: refused (401, 404 or 429), and nothing changes but the refusal log', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), path, authorization, malformed(VALID['/v1/hosts:batch']), async (method, target, auth, body) => {
        const before = await redisSnapshot(redis.redis, isRefusalLog);
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) };
        // From an address of its own: its failures use up its budget, not the one the other properties send from.
        const res = await requestFrom('127.0.0.5', base, method, target, headers, bodyText(body));
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const show = `${method} ${target.slice(0, 80)} ${auth} -> ${res.status} ${res.body.slice(0, 200)}`;
        expect([401, 404, 429], show).toContain(res.status);
        expect(await redisSnapshot(redis.redis, isRefusalLog), `state or audit log changed: ${show}`).toBe(before);
      }),
      { numRuns: RUNS, seed: 20_240_614 },
    );
    expect(seen.get(401) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    expect(seen.get(404) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    expect(seen.get(429) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
  }, 120_000);
});
