import { describe, expect, it } from 'vitest';
import { REFUSED_START_TIMEOUT_MS, expectRefusedStart } from '../support/refused-start';

describe('metrics configuration', () => {
  it('a bad variable stops the exporter at start with one line naming it', async () => {
    const line = await expectRefusedStart('metrics', { METRICS_PORT: 'http' }, ['METRICS_PORT']);
    expect(line).toMatch(/^luo-fleet metrics: configuration: METRICS_PORT: /);
  }, REFUSED_START_TIMEOUT_MS);

  it('names every wrong variable, the shared Redis ones included', async () => {
    await expectRefusedStart('metrics', { METRICS_REDIS_TIMEOUT_MS: '1', REDIS_URL: 'localhost:6379' }, ['METRICS_REDIS_TIMEOUT_MS', 'REDIS_URL']);
  }, REFUSED_START_TIMEOUT_MS);
});
