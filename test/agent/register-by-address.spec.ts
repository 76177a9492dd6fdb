import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { AgentHost, freePort } from './support/agent-host';

/*
 * Registering hosts by their agent's address: the in-process planner reads each topology from a
 * real agent process (signed with the secret in its own AGENT_SECRETS_DIR), or refuses the
 * registration naming driver.url and stores nothing.
 */

const LABELS = { rack: 'r1', zone: 'z1' };
const agentHost = (id: string, url: string, extra: Record<string, unknown> = {}) => ({ id, labels: LABELS, driver: { kind: 'agent', url }, ...extra });

let agent: AgentHost;
let planner: PlannerUnderTest;
let secretsDir: string;
let garbage: Server;
let garbageUrl: string;
let deadUrl: string;

beforeAll(async () => {
  agent = await AgentHost.create({ hostId: 'hv-reg', address: '127.0.0.31' });
  secretsDir = mkdtempSync(join(tmpdir(), 'luo-planner-secrets-'));
  // The planner holds the same bytes as the agent (with the newline `openssl rand -hex 32 >` leaves).
  writeFileSync(join(secretsDir, 'hv-reg'), `${agent.secret.toString()}\n`, { mode: 0o600 });
  writeFileSync(join(secretsDir, 'hv-wrong'), randomBytes(32).toString('hex'), { mode: 0o600 });
  writeFileSync(join(secretsDir, 'hv-short'), 'abc', { mode: 0o600 });
  writeFileSync(join(secretsDir, 'hv-garbage'), randomBytes(32).toString('hex'), { mode: 0o600 });
  writeFileSync(join(secretsDir, 'hv-dead'), randomBytes(32).toString('hex'), { mode: 0o600 });
  // An "agent" that answers 200 with something that is not a HostTopology.
  garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"devices":"none"}'));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.31', r));
  garbageUrl = `http://127.0.0.31:${(garbage.address() as AddressInfo).port}`;
  // Nothing listens there: connection refused.
  deadUrl = `http://127.0.0.31:${await freePort('127.0.0.31')}`;
  planner = await startPlanner({ AGENT_SECRETS_DIR: secretsDir, AGENT_TIMEOUT_MS: '3000' });
}, 120_000);

afterAll(async () => {
  await planner?.close();
  await new Promise((r) => garbage?.close(r));
  await agent?.dispose();
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

const stored = async (id: string) => (await planner.call('GET', `/v1/hosts/${id}`)).status;

describe('POST /v1/hosts with an agent driver and no topology', () => {
  it('stores the topology the agent reports', async () => {
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const fromAgent = (await (await agent.signedFetch('GET', '/v1/topology')).json()) as { devices: unknown[] };
    expect(res.body.host).toMatchObject({ id: 'hv-reg', driver: { kind: 'agent', url: agent.url }, devices: fromAgent.devices.length });
    const host = (await planner.call('GET', '/v1/hosts/hv-reg')).body;
    expect(host.topology).toEqual(fromAgent);
    expect(host.topology.devices.map((d: { bdf: string }) => d.bdf)).toContain('0000:01:00.0');
    expect((await planner.call('DELETE', '/v1/hosts/hv-reg')).status).toBe(204);
  });

  it("stores whether LUO is on as the agent's identity says, unless luoEnabled is sent", async () => {
    expect((await planner.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url) })).status).toBe(201);
    expect((await planner.call('GET', '/v1/hosts/hv-reg')).body.luoEnabled).toBe(true);
    // The simulated machine's /dev/liveupdate goes away: its agent now answers LUO_DISABLED.
    const device = join(agent.simDir, 'liveupdate');
    const content = readFileSync(device);
    rmSync(device);
    try {
      expect(((await (await agent.signedFetch('GET', '/v1/identity')).json()) as { luoEnabled: boolean }).luoEnabled).toBe(false);
      expect((await planner.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url) })).status).toBe(200);
      expect((await planner.call('GET', '/v1/hosts/hv-reg')).body.luoEnabled).toBe(false);
      // Sent, the field wins over the agent's answer.
      expect((await planner.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url, { luoEnabled: true }) })).status).toBe(200);
      expect((await planner.call('GET', '/v1/hosts/hv-reg')).body.luoEnabled).toBe(true);
      // A refresh reads it again.
      const refreshed = await planner.call('POST', '/v1/hosts/hv-reg/topology:refresh');
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.changed).toBe(true);
      expect((await planner.call('GET', '/v1/hosts/hv-reg')).body.luoEnabled).toBe(false);
    } finally {
      writeFileSync(device, content);
    }
    expect((await planner.call('DELETE', '/v1/hosts/hv-reg')).status).toBe(204);
  });

  it('refuses, naming driver.url, when the planner has no secret, a short one, or a wrong one; stores nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['hv-nosecret', /no agent secret for host hv-nosecret/],
      ['hv-short', /shorter than 16 bytes/],
      ['hv-wrong', /refused topology with 401/],
    ];
    for (const [id, problem] of cases) {
      const res = await planner.call('POST', '/v1/hosts', { body: agentHost(id, agent.url) });
      expect(res.status, id).toBe(400);
      expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringMatching(problem) }]);
      expect(await stored(id)).toBe(404);
    }
  });

  it('refuses an answer that is not a HostTopology with a 400 naming driver.url', async () => {
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-garbage', garbageUrl) });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('not a valid HostTopology') }]);
    expect(await stored('hv-garbage')).toBe(404);
  });

  it('answers 502 naming driver.url when the agent does not answer', async () => {
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-dead', deadUrl) });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ statusCode: 502, error: 'Bad Gateway' });
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('unreachable') }]);
    expect(await stored('hv-dead')).toBe(404);
  });

  it('registers without asking the agent when topology is null', async () => {
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-dead', deadUrl, { topology: null }) });
    expect(res.status).toBe(201);
    expect(res.body.host.devices).toBeNull();
    expect((await planner.call('DELETE', '/v1/hosts/hv-dead')).status).toBe(204);
  });
});

describe('POST /v1/hosts:batch', () => {
  it('stores nothing when one agent fails: 502 if every problem is an unreachable agent, else 400; each names hosts.N.driver.url', async () => {
    const unreachable = await planner.call('POST', '/v1/hosts:batch', { body: { hosts: [agentHost('hv-reg', agent.url), agentHost('hv-dead', deadUrl)] } });
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.issues.map((i: { field: string }) => i.field)).toEqual(['hosts.1.driver.url']);
    expect(await stored('hv-reg')).toBe(404);

    const mixed = await planner.call('POST', '/v1/hosts:batch', {
      body: { hosts: [agentHost('hv-dead', deadUrl), agentHost('hv-reg', agent.url), agentHost('hv-wrong', agent.url)] },
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body.issues.map((i: { field: string }) => i.field)).toEqual(['hosts.0.driver.url', 'hosts.2.driver.url']);
    expect(await stored('hv-reg')).toBe(404);
  });

  it('fetches every agent-backed host without a topology and keeps the others as sent', async () => {
    const res = await planner.call('POST', '/v1/hosts:batch', {
      body: { hosts: [agentHost('hv-reg', agent.url), { id: 'hv-sim', labels: LABELS }, agentHost('hv-dead', deadUrl, { topology: null })] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ created: 3, replaced: 0 });
    expect((await planner.call('GET', '/v1/hosts/hv-reg')).body.topology.devices.length).toBeGreaterThan(0);
    expect((await planner.call('GET', '/v1/hosts/hv-sim')).body.topology).toBeNull();
    for (const id of ['hv-reg', 'hv-sim', 'hv-dead']) expect((await planner.call('DELETE', `/v1/hosts/${id}`)).status).toBe(204);
  });
});

describe('POST /v1/hosts/:id/topology:refresh', () => {
  it("re-reads the agent's topology and stores it, keeping labels, driver and registration time", async () => {
    const first = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url, { labels: { ...LABELS, kind: 'gpu' }, topology: null }) });
    expect(first.status).toBe(201);
    const refreshed = await planner.call('POST', '/v1/hosts/hv-reg/topology:refresh');
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(refreshed.body.changed).toBe(true);
    expect(refreshed.body.host).toMatchObject({ labels: { ...LABELS, kind: 'gpu' }, registeredAt: first.body.host.registeredAt });
    const host = (await planner.call('GET', '/v1/hosts/hv-reg')).body;
    expect(host.topology).toEqual(await (await agent.signedFetch('GET', '/v1/topology')).json());
    expect(refreshed.body.host.devices).toBe(host.topology.devices.length);
    expect((await planner.call('GET', '/v1/hosts?selector=kind%3Dgpu')).body.hosts.map((h: { id: string }) => h.id)).toEqual(['hv-reg']);

    const again = await planner.call('POST', '/v1/hosts/hv-reg/topology:refresh');
    expect(again.status).toBe(200);
    expect(again.body.changed).toBe(false);
  });

  it('is for operators, for agent-backed hosts that exist; an agent that does not answer is a 502 and changes nothing', async () => {
    expect((await planner.call('POST', '/v1/hosts/hv-reg/topology:refresh', { as: 'viewer' })).status).toBe(403);
    expect((await planner.call('POST', '/v1/hosts/hv-nobody/topology:refresh')).status).toBe(404);
    const bad = await planner.call('POST', '/v1/hosts/Not_An_Id/topology:refresh');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].field).toBe('id');
    expect((await planner.call('POST', '/v1/hosts', { body: { id: 'hv-sim', labels: LABELS } })).status).toBe(201);
    const sim = await planner.call('POST', '/v1/hosts/hv-sim/topology:refresh');
    expect(sim.status).toBe(409);
    expect(sim.body.message).toContain('simulated');

    expect((await planner.call('POST', '/v1/hosts', { body: agentHost('hv-dead', deadUrl, { topology: null }) })).status).toBe(201);
    const dead = await planner.call('POST', '/v1/hosts/hv-dead/topology:refresh');
    expect(dead.status).toBe(502);
    expect(dead.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('unreachable') }]);
    expect((await planner.call('GET', '/v1/hosts/hv-dead')).body.topology).toBeNull();
  });
});

describe('a planner without AGENT_SECRETS_DIR', () => {
  it('refuses agent registrations without a topology with a 400 that says so', async () => {
    const bare = await startPlanner();
    try {
      const res = await bare.call('POST', '/v1/hosts', { body: agentHost('hv-reg', agent.url) });
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('AGENT_SECRETS_DIR') }]);
    } finally {
      await bare.close();
    }
  });
});
