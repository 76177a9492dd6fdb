import { describe, expect, it } from 'vitest';
import { REFUSED_START_TIMEOUT_MS, expectRefusedStart } from '../support/refused-start';

const TOKENS = { LUO_FLEET_TOKENS: 'alice:operator:0123456789abcdef0123456789abcdef' };

describe('planner configuration', () => {
  it('a bad variable stops the planner at start with one line naming it', async () => {
    const line = await expectRefusedStart('planner', { ...TOKENS, PLANNER_PORT: '80000' }, ['PLANNER_PORT']);
    expect(line).toMatch(/^luo-fleet planner: configuration: PLANNER_PORT: /);
  }, REFUSED_START_TIMEOUT_MS);

  it('names every wrong variable, the log level and the shared Redis ones included', async () => {
    await expectRefusedStart('planner', { ...TOKENS, LUO_FLEET_LOG_LEVEL: 'loud', LUO_FLEET_PREFIX: 'a b' }, ['LUO_FLEET_LOG_LEVEL', 'LUO_FLEET_PREFIX']);
  }, REFUSED_START_TIMEOUT_MS);

  it('AGENT_TLS_* set in part is a configuration error naming all three', async () => {
    await expectRefusedStart('planner', { ...TOKENS, AGENT_TLS_CA_FILE: '/etc/ssl/certs/ca-certificates.crt' }, ['AGENT_TLS_CERT_FILE', 'AGENT_TLS_KEY_FILE', 'AGENT_TLS_CA_FILE']);
  }, REFUSED_START_TIMEOUT_MS);

  it('no API token is a configuration error too', async () => {
    const line = await expectRefusedStart('planner', { LUO_FLEET_TOKENS: '' }, ['LUO_FLEET_TOKENS']);
    expect(line).toMatch(/no API tokens/);
  }, REFUSED_START_TIMEOUT_MS);
});
