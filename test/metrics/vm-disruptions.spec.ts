import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutcomeEntry } from '@luo-fleet/handover';
import { recordHandovers, type RecordedHandover } from '../support/metrics-record-handovers';
import { createMetricsApp } from './metrics-app-under-test';
import { scrape, valueOf } from './exposition';
import { failedHost, skippedHost, updatedHost } from './handover-scenario';
import { deleteKeys, REDIS_URL, testPrefix } from './redis-fixture';

/*
 * luo_fleet_vm_disruptions_total{kind} and the strategy label of luo_fleet_handovers_total (design
 * 4.4): counted in the same journal write as the outcome they describe, summed fleet-wide by the
 * exporter, no host label.
 */

const prefix = testPrefix();
const redis = new IORedis(REDIS_URL);

type Outcome = Omit<OutcomeEntry, 'at' | 'type' | 'reasons'>;

function outcomeOf(hostId: string, entry: Outcome): RecordedHandover {
  return { hostId, entries: [{ type: 'outcome', reasons: [], ...entry }] };
}

beforeAll(async () => {
  const job = (rolloutId: string, handovers: RecordedHandover[]) => recordHandovers({ redisUrl: REDIS_URL, prefix, rolloutId, handovers });
  await Promise.all([
    job('r1', [
      outcomeOf('lu', { outcome: 'updated', vms: { preserved: 4 } }),
      outcomeOf('lur', { outcome: 'updated', strategy: 'live-update-restart', vms: { preserved: 2, restarted: 1 } }),
      outcomeOf('ev', { outcome: 'updated', strategy: 'evacuate', vms: { migrated: 3 } }),
      outcomeOf('ev-rb', { outcome: 'rolled_back', phase: 'kexec_load', strategy: 'evacuate', vms: { migrated: 2 } }),
      updatedHost('plain'),
    ]),
    job('r2', [
      outcomeOf('gone', { outcome: 'failed', phase: 'finish', vms: { lost: 5 } }),
      outcomeOf('held', { outcome: 'skipped', strategy: 'evacuate' }),
      skippedHost('sk'),
      failedHost('f'),
    ]),
  ]);
}, 60_000);

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('VM disruptions and strategies in the exporter', () => {
  it('counts VMs by kind and hosts by outcome and strategy, fleet-wide, without a host label, across a restart', async () => {
    for (let run = 0; run < 2; run++) {
      const app = await createMetricsApp({ redis: { url: REDIS_URL, prefix }, host: '127.0.0.1', port: 0 }, ['error']);
      try {
        const s = await scrape(app.url);
        const kind = (k: string) => valueOf(s, 'luo_fleet_vm_disruptions_total', { kind: k });
        expect([kind('preserved'), kind('migrated'), kind('restarted'), kind('lost')]).toEqual([6, 5, 1, 5]);
        const hosts = (outcome: string, strategy: string) => valueOf(s, 'luo_fleet_handovers_total', { outcome, strategy });
        expect(hosts('updated', 'live-update')).toBe(2);
        expect(hosts('updated', 'live-update-restart')).toBe(1);
        expect(hosts('updated', 'evacuate')).toBe(1);
        expect(hosts('rolled_back', 'evacuate')).toBe(1);
        expect(hosts('failed', 'live-update')).toBe(2);
        // A skipped host is labelled `skip`, whatever strategy its plan named.
        expect(hosts('skipped', 'skip')).toBe(2);
        expect(hosts('cancelled', 'live-update')).toBe(0);
        for (const x of s.filter((x) => x.name === 'luo_fleet_handovers_total' || x.name === 'luo_fleet_vm_disruptions_total')) {
          expect(Object.keys(x.labels).sort()).toEqual(x.name === 'luo_fleet_handovers_total' ? ['outcome', 'strategy'] : ['kind']);
        }
      } finally {
        await app.close();
      }
    }
  });
});
