import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_STEPS, signRequest, type StepAnswer } from '@luo-fleet/handover';
import { createAgentApp, type AgentApp } from '../../apps/agent/src/agent-app';
import { parseAgentConfig } from '../../apps/agent/src/config/agent-config';
import { agentPathsIn } from './support/agent-paths';

/*
 * The agent defends its host by itself (issue 16): whatever a client with the secret sends, and
 * whatever a client without it tries, the host runs one step at a time, at most one kexec per
 * boot, nothing a hook left behind outlives its step, and the HTTP server gives nobody more than
 * a small, timed share of itself.
 */

const HOST = 'hv-defences';

interface Agent {
  dir: string;
  secret: Buffer;
  app: AgentApp;
  state: string;
}

/** An in-process agent whose hooks are bash one-liners (`exit 0` unless given). */
async function startAgent(dir: string, hooks: Record<string, string>, extra: Record<string, unknown> = {}): Promise<Agent> {
  const secret = Buffer.from(randomBytes(32).toString('hex'));
  writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
  mkdirSync(join(dir, 'state'), { recursive: true });
  if (!existsSync(join(dir, 'boot_id'))) writeFileSync(join(dir, 'boot_id'), 'boot-1\n');
  const config = parseAgentConfig({
    hostId: HOST,
    listen: { host: '127.0.0.1', port: 0 },
    ...agentPathsIn(dir),
    kexecReturnWindowMs: 500,
    killGraceMs: 200,
    hooks: Object.fromEntries(
      [...AGENT_STEPS, 'incoming'].map((s) => [s, { command: '/bin/bash', args: ['-c', hooks[s] ?? 'exit 0'], timeoutMs: 20_000 }]),
    ),
    ...extra,
  });
  return { dir, secret, app: await createAgentApp(config, secret, ['error']), state: join(dir, 'state') };
}

function stepBody(requestId: string, overrides: Record<string, unknown> = {}) {
  return {
    requestId,
    handoverId: 'r-def.hv-defences',
    hostId: HOST,
    rolloutId: 'r-def',
    targetKernel: '6.18.0-luo2',
    preservationSet: { devices: [{ bdf: '0000:01:00.0', preservable: true }] },
    ...overrides,
  };
}

async function post(agent: Agent, step: string, body: unknown): Promise<{ status: number; headers: Headers; body: StepAnswer & { message?: string; issues?: { field: string }[] } }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const path = `/v1/steps/${step}`;
  const headers = { ...signRequest(agent.secret, { method: 'POST', path, body: text }), 'content-type': 'application/json' };
  const res = await fetch(`${agent.app.url}${path}`, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as StepAnswer & { message?: string; issues?: { field: string }[] } };
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agent defences', () => {
  let dir: string;
  let agent: Agent | undefined;
  let log: string;
  const hooks = () => ({
    // Each run leaves a line naming its requestId, so a test can count what really ran.
    kexec: `read -r req; echo "$req" | grep -o '"requestId":"[^"]*"' >> ${log}; sleep 1; exit 0`,
    finish: `read -r req; echo "$req" | grep -o '"requestId":"[^"]*"' >> ${log}; sleep 0.5`,
    thaw: `sleep 300 & echo $! > ${join(dir, 'orphan.pid')}; echo left a child behind`,
    freeze: `env > ${join(dir, 'hook.env')}`,
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'luo-agent-defences-'));
    log = join(dir, 'ran.log');
  });
  afterEach(async () => {
    await agent?.app.close();
    agent = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a deeply nested body before recording anything; a retry of that kexec then really runs', async () => {
    agent = await startAgent(dir, hooks());
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const text = JSON.stringify(stepBody('deep-kexec')).replace('"devices":', `"deep":${deep},"devices":`);
    const refused = await post(agent, 'kexec', text);
    expect(refused.status).toBe(400);
    expect(refused.body.issues?.[0].field).toBe('body');
    expect(readdirSync(join(agent.state, 'requests'))).toEqual([]);

    const retried = await post(agent, 'kexec', stepBody('deep-kexec'));
    expect(retried.status).toBe(202);
    expect(lines(log)).toEqual(['"requestId":"deep-kexec"']);
  });

  it('runs one step at a time: of five finishes at once, one runs and four get 409 naming it', async () => {
    agent = await startAgent(dir, hooks());
    rmSync(log, { force: true });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => post(agent!, 'finish', stepBody(`finish-${i}`))));
    const ran = answers.filter((a) => a.status === 200);
    expect(ran).toHaveLength(1);
    const runner = ran[0].body.requestId;
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.body.message).toContain(`finish ${runner} is running`);
    expect(lines(log)).toEqual([`"requestId":"${runner}"`]);
  });

  it('never runs a second kexec in one boot, whoever asks, also after an agent restart', async () => {
    writeFileSync(join(dir, 'boot_id'), 'boot-2\n');
    agent = await startAgent(dir, hooks());
    rmSync(log, { force: true });
    const [first, second] = await Promise.all([post(agent, 'kexec', stepBody('kexec-a')), post(agent, 'kexec', stepBody('kexec-b'))]);
    expect([first.status, second.status].sort()).toEqual([202, 409]);
    const runner = first.status === 202 ? 'kexec-a' : 'kexec-b';
    expect((first.status === 409 ? first : second).body.message).toContain(`kexec ${runner} is running`);

    const later = await post(agent, 'kexec', stepBody('kexec-c'));
    expect(later.status).toBe(409);
    expect(later.body.message).toContain(`a kexec (requestId ${runner}) was already issued in this boot`);
    // The same request again is only its first answer again.
    expect((await post(agent, 'kexec', stepBody(runner))).status).toBe(202);

    await agent.app.close();
    agent = await startAgent(dir, hooks());
    expect((await post(agent, 'kexec', stepBody('kexec-d'))).status).toBe(409);
    expect(lines(log)).toEqual([`"requestId":"${runner}"`]);

    // A new boot may kexec again.
    writeFileSync(join(dir, 'boot_id'), 'boot-3\n');
    expect((await post(agent, 'kexec', stepBody('kexec-e'))).status).toBe(202);
  }, 30_000);

  it("kills what a hook left running when the hook exits, not only at its timeout", async () => {
    agent = await startAgent(dir, hooks());
    const answer = await post(agent, 'thaw', stepBody('thaw-orphan'));
    expect(answer.body).toMatchObject({ ok: true, outputTail: ['left a child behind'] });
    const pid = Number(readFileSync(join(dir, 'orphan.pid'), 'utf8'));
    expect(await until(() => !pidAlive(pid), 5_000)).toBe(true);
  });

  it('gives a hook an environment of its own: nothing of the agent, no secret', async () => {
    process.env.LUO_DEFENCES_PROBE = 'agent-env';
    try {
      agent = await startAgent(dir, hooks());
      expect((await post(agent, 'freeze', stepBody('env-probe'))).body.ok).toBe(true);
    } finally {
      delete process.env.LUO_DEFENCES_PROBE;
    }
    const env = readFileSync(join(dir, 'hook.env'), 'utf8');
    const names = env.split('\n').filter(Boolean).map((l) => l.split('=')[0]).filter((n) => !['PWD', 'SHLVL', '_'].includes(n));
    expect(names.sort()).toEqual(['LANG', 'LUO_AGENT_HOST_ID', 'LUO_AGENT_STATE_DIR', 'LUO_AGENT_STEP', 'PATH']);
    expect(env).not.toContain(agent.secret.toString());
  });
});

describe('agent HTTP server limits', () => {
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-agent-limits-'));
    agent = await startAgent(dir, {}, { http: { bodyTimeoutMs: 2_000, bodyIdleMs: 1_500, maxConnections: 4 } });
  });
  afterAll(async () => {
    await agent?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(agent.app.url);
      const socket = connect(Number(port), hostname, () => resolve(socket));
      socket.once('error', reject);
    });
  const closed = (socket: Socket): Promise<string> =>
    new Promise((resolve) => {
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('error', () => {});
      socket.once('close', () => resolve(received));
    });

  it('answers without X-Powered-By and with nosniff, refusals included', async () => {
    const ok = await post(agent, 'finish', stepBody('headers-1'));
    expect(ok.status).toBe(200);
    const res = await fetch(`${agent.app.url}/v1/identity`);
    expect(res.status).toBe(401);
    for (const h of [ok.headers, res.headers]) {
      expect(h.get('x-powered-by')).toBeNull();
      expect(h.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('cuts off a body trickled at one byte per second', async () => {
    const socket = await open();
    const done = closed(socket);
    const started = Date.now();
    socket.write(`POST /v1/steps/finish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write(' '), 1_000);
    const received = await done;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 15_000);

  it('takes at most maxConnections connections at once', async () => {
    const held = await Promise.all([open(), open(), open(), open()]);
    const extra = await open();
    const gone = await Promise.race([closed(extra).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
    expect(gone).toBe(true);
    for (const s of held) s.destroy();
  });
});

describe('agent authentication failures', () => {
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-agent-auth-'));
    agent = await startAgent(dir, {}, { http: { authFailureBurst: 5, authFailureRefillMs: 60_000 } });
  });
  afterAll(async () => {
    await agent?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 429 to an address after a burst of failed authentications, before looking at the request', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${agent.app.url}/v1/identity`, { headers: { 'x-luo-signature': 'guess' } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const signed = await fetch(`${agent.app.url}/v1/identity`, { headers: signRequest(agent.secret, { method: 'GET', path: '/v1/identity', body: '' }) });
    expect(signed.status).toBe(429);
    expect(Number(signed.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
