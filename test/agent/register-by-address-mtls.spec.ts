import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSysfsTopology } from '@luo-fleet/topology';
import type { AgentApp } from '../../apps/agent/src/agent-app';
import { loadWorkerConfig, WorkerConfigError } from '../../apps/worker/src/worker-config';
import { PlannerConfigError, plannerSettingsFromEnv } from '../../apps/planner/src/planner-settings';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { issueCertificate } from '../support/test-certificates';
import { startTlsAgent } from './support/tls-agent';

/*
 * Registering a host by address when its agent requires mutual TLS: the planner presents the
 * client certificate of the workers' AGENT_TLS_* variables. On loopback, with certificates made
 * here by openssl: a CA for the agents and one for their clients.
 */

const HOST = 'hv-mtls-reg';
const FIXTURE = resolve(__dirname, '../fixtures/singleton-endpoint');
const LABELS = { rack: 'r1', zone: 'z1' };

let dir: string;
let agent: AgentApp;
let clientTls: Record<string, string>;
const planners: PlannerUnderTest[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'luo-planner-mtls-'));
  issueCertificate(dir, 'agents-ca', 'agent', HOST);
  issueCertificate(dir, 'clients-ca', 'client', 'planner-1');
  let secret: Buffer;
  ({ agent, secret } = await startTlsAgent(dir, HOST, 'clients-ca', FIXTURE));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', HOST), `${secret.toString()}\n`, { mode: 0o600 });
  clientTls = { AGENT_TLS_CERT_FILE: join(dir, 'client.crt'), AGENT_TLS_KEY_FILE: join(dir, 'client.key'), AGENT_TLS_CA_FILE: join(dir, 'agents-ca.crt') };
}, 60_000);

afterAll(async () => {
  for (const p of planners) await p.close();
  await agent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function planner(env: Record<string, string>): Promise<PlannerUnderTest> {
  const p = await startPlanner({ AGENT_SECRETS_DIR: join(dir, 'secrets'), AGENT_TIMEOUT_MS: '3000', ...env });
  planners.push(p);
  return p;
}

const register = (p: PlannerUnderTest, url: string) => p.call('POST', '/v1/hosts', { body: { id: HOST, labels: LABELS, driver: { kind: 'agent', url } } });

describe("the planner's agent client over mutual TLS (AGENT_TLS_CERT_FILE, AGENT_TLS_KEY_FILE, AGENT_TLS_CA_FILE)", () => {
  it('registers a host whose agent requires a client certificate, storing the topology the agent read', async () => {
    expect(agent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const p = await planner(clientTls);
    const res = await register(p, agent.url);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const host = (await p.call('GET', `/v1/hosts/${HOST}`)).body;
    expect(host.topology).toEqual(JSON.parse(JSON.stringify(await readSysfsTopology(join(dir, 'sys')))));
    expect(host.topology.devices.length).toBeGreaterThan(0);
  });

  it('without the client settings the handshake fails: 502 naming driver.url, nothing stored', async () => {
    const p = await planner({});
    const res = await register(p, agent.url);
    expect(res.status).toBe(502);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('unreachable') }]);
    expect((await p.call('GET', `/v1/hosts/${HOST}`)).status).toBe(404);
  });

  it('with them, an http:// agent address is refused with a 400 naming driver.url', async () => {
    const p = await planner(clientTls);
    const res = await register(p, agent.url.replace('https://', 'http://'));
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringMatching(/mutual TLS.*must be https:\/\//) }]);
  });

  it('planner and workers refuse to start on one or two of the three variables, or a file they cannot read, naming the variable', () => {
    const tokens = { LUO_FLEET_TOKENS: 'alice:operator:0123456789abcdef0123456789abcdef' };
    const partial = { AGENT_TLS_CERT_FILE: clientTls.AGENT_TLS_CERT_FILE };
    const missing = { ...clientTls, AGENT_TLS_KEY_FILE: join(dir, 'nowhere.key') };
    expect(() => plannerSettingsFromEnv({ ...tokens, ...partial })).toThrow(PlannerConfigError);
    expect(() => plannerSettingsFromEnv({ ...tokens, ...partial })).toThrow(/AGENT_TLS_CERT_FILE, AGENT_TLS_KEY_FILE and AGENT_TLS_CA_FILE: set all three/);
    expect(() => plannerSettingsFromEnv({ ...tokens, ...missing })).toThrow(/^configuration: AGENT_TLS_KEY_FILE: cannot read .*nowhere\.key \(ENOENT\)$/);
    expect(() => loadWorkerConfig(partial)).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig(missing)).toThrow(/^configuration: AGENT_TLS_KEY_FILE: cannot read .*nowhere\.key \(ENOENT\)$/);
    expect(loadWorkerConfig(clientTls).agentTls).toEqual({ certFile: clientTls.AGENT_TLS_CERT_FILE, keyFile: clientTls.AGENT_TLS_KEY_FILE, caFile: clientTls.AGENT_TLS_CA_FILE });
    expect(plannerSettingsFromEnv({ ...tokens, ...clientTls }).agents.tls).toEqual(loadWorkerConfig(clientTls).agentTls);
  });
});
