import { describe, expect, it } from 'vitest';
import { REFUSED_START_TIMEOUT_MS, expectRefusedStart } from '../support/refused-start';

describe('worker configuration', () => {
  it('a bad variable stops the worker at start with one line naming it', async () => {
    const line = await expectRefusedStart('worker', { WORKER_CONCURRENCY: '0' }, ['WORKER_CONCURRENCY']);
    expect(line).toMatch(/^luo-fleet worker: configuration: WORKER_CONCURRENCY: /);
  }, REFUSED_START_TIMEOUT_MS);

  it('names every wrong variable, the shared Redis ones included', async () => {
    await expectRefusedStart('worker', { LEASE_TTL_MS: 'soon', LOG_LEVEL: 'loud', REDIS_CLUSTER_NODES: 'redis-a' }, [
      'LEASE_TTL_MS',
      'LOG_LEVEL',
      'REDIS_CLUSTER_NODES',
    ]);
  }, REFUSED_START_TIMEOUT_MS);

  it('AGENT_TLS_* naming a file it cannot read stops it, naming the variable', async () => {
    const line = await expectRefusedStart('worker', { AGENT_TLS_CERT_FILE: '/nonexistent/client.crt', AGENT_TLS_KEY_FILE: '/nonexistent/client.key', AGENT_TLS_CA_FILE: '/nonexistent/ca.crt' }, ['AGENT_TLS_CERT_FILE']);
    expect(line).toMatch(/cannot read \/nonexistent\/client\.crt \(ENOENT\)/);
  }, REFUSED_START_TIMEOUT_MS);
});
