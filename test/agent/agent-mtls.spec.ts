import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHostDriver, HostUnreachableError } from '@luo-fleet/handover';
import type { AgentApp } from '../../apps/agent/src/agent-app';
import { issueCertificate } from '../support/test-certificates';
import { startTlsAgent } from './support/tls-agent';

/*
 * Mutual TLS between the worker's AgentHostDriver and an agent, on loopback, with certificates made
 * here by openssl: a CA for the agents, a CA for the workers, and a stranger CA.
 */

const HOST = 'hv-mtls';

describe('mutual TLS between driver and agent', () => {
  let dir: string;
  let agent: AgentApp;
  let secret: Buffer;
  const pem = (name: string) => readFileSync(join(dir, name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-agent-mtls-'));
    issueCertificate(dir, 'agents-ca', 'agent', HOST);
    issueCertificate(dir, 'workers-ca', 'worker', 'worker-1');
    issueCertificate(dir, 'stranger-ca', 'stranger', 'worker-1');
    ({ agent, secret } = await startTlsAgent(dir, HOST, 'workers-ca'));
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
