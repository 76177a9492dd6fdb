import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_STEPS, AgentHostDriver, HostUnreachableError } from '@luo-fleet/handover';
import { createAgentApp, type AgentApp } from '../../apps/agent/src/agent-app';
import { parseAgentConfig } from '../../apps/agent/src/config/agent-config';
import { agentPathsIn } from './support/agent-paths';

/*
 * Mutual TLS between the worker's AgentHostDriver and an agent, on loopback, with certificates made
 * here by openssl: a CA for the agents, a CA for the workers, and a stranger CA.
 */

const HOST = 'hv-mtls';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A self-signed CA `name` and a certificate `leaf` it signs, for `cn` (with 127.0.0.1 as an IP SAN). */
function issue(dir: string, ca: string, leaf: string, cn: string, makeCa = true): void {
  if (makeCa) openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.crt`);
  writeFileSync(join(dir, `${leaf}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
  openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${leaf}.ext`, '-out', `${leaf}.crt`);
}

describe('mutual TLS between driver and agent', () => {
  let dir: string;
  let agent: AgentApp;
  let secret: Buffer;
  const pem = (name: string) => readFileSync(join(dir, name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-agent-mtls-'));
    issue(dir, 'agents-ca', 'agent', HOST);
    issue(dir, 'workers-ca', 'worker', 'worker-1');
    issue(dir, 'stranger-ca', 'stranger', 'worker-1');
    secret = Buffer.from(randomBytes(32).toString('hex'));
    writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'boot_id'), 'boot-1\n');
    writeFileSync(join(dir, 'osrelease'), '6.12.0\n');
    writeFileSync(join(dir, 'cmdline'), 'liveupdate=on kho=on\n');
    writeFileSync(join(dir, 'liveupdate'), '');
    const config = parseAgentConfig({
      hostId: HOST,
      listen: { host: '127.0.0.1', port: 0 },
      ...agentPathsIn(dir),
      tls: { certFile: join(dir, 'agent.crt'), keyFile: join(dir, 'agent.key'), clientCaFile: join(dir, 'workers-ca.crt') },
      hooks: Object.fromEntries([...AGENT_STEPS, 'incoming'].map((s) => [s, { command: '/bin/true', args: [], timeoutMs: 5_000 }])),
    });
    agent = await createAgentApp(config, secret, ['error']);
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const driver = (cert: string, ca = 'agents-ca') =>
    new AgentHostDriver({ url: agent.url, hostId: HOST, secret, retries: 0, timeoutMs: 5_000, tls: { cert: pem(`${cert}.crt`), key: pem(`${cert}.key`), ca: pem(`${ca}.crt`) } });

  it('serves https and answers a driver presenting a certificate of the workers CA', async () => {
    expect(agent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await driver('worker').identity()).toEqual({ bootId: 'boot-1', kernelRelease: '6.12.0', luoEnabled: true });
  });

  it('refuses the handshake to a client without a certificate, or with one of another CA', async () => {
    await expect(driver('stranger').identity()).rejects.toThrow(HostUnreachableError);
    // Trusting the agent but presenting no certificate: the agent ends the connection, unanswered.
    const anonymous = new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${agent.url}/v1/identity`, { ca: pem('agents-ca.crt'), timeout: 5_000 }, (res) => resolve(res.statusCode));
      req.on('error', reject);
      req.end();
    });
    await expect(anonymous).rejects.toThrow();
  });

  it('the driver does not trust an agent whose certificate another CA signed', async () => {
    await expect(driver('worker', 'workers-ca').identity()).rejects.toThrow(/unreachable/);
  });
});
