import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { REFUSED_START_TIMEOUT_MS, expectRefusedStart } from '../support/refused-start';

describe('agent configuration', () => {
  it('no config file named stops the agent at start with one line naming the variable', async () => {
    await expectRefusedStart('agent', { LUO_AGENT_CONFIG: '' }, ['LUO_AGENT_CONFIG']);
    await expectRefusedStart('agent', { LUO_AGENT_CONFIG: '/nonexistent/agent.json' }, ['LUO_AGENT_CONFIG', 'ENOENT']);
  }, REFUSED_START_TIMEOUT_MS);

  it('a config file with several wrong fields is one line naming each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luo-agent-config-'));
    try {
      const file = join(dir, 'agent.json');
      writeFileSync(file, JSON.stringify({ hostId: 'hv x', secretFile: 'secret', stateDir: dir, hooks: {} }));
      await expectRefusedStart('agent', { LUO_AGENT_CONFIG: file }, ['hostId', 'secretFile', 'hooks.preserve']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, REFUSED_START_TIMEOUT_MS);
});
