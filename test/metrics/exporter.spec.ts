import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetKeys } from '@luo-fleet/redis';
import { HANDOVER_QUEUE, openEmptyJobs, startEmptyJobWorker, type EmptyJobs, type EmptyJobWorker } from '@luo-fleet/jobs';
import { createMetricsApp, type MetricsApp } from './metrics-app-under-test';
import { scrape, valueOf, type Sample } from './exposition';
import { failedHost, rolledBackHost, skippedHost, stuckHost, updatedHost } from './handover-scenario';
import { deleteKeys, recordInChildProcess, recorderBuilt, REDIS_URL, storeActiveRollout, testPrefix } from './redis-fixture';

const prefix = testPrefix();
const keys = new FleetKeys(prefix);
const redis = new IORedis(REDIS_URL);
let app: MetricsApp;
let worker: EmptyJobWorker;
let queue: EmptyJobs;

const start = () => createMetricsApp({ redis: { url: REDIS_URL, prefix }, host: '127.0.0.1', port: 0 }, ['error']);

beforeAll(async () => {
  recorderBuilt();
  await storeActiveRollout(redis, keys, 'r1', { maxConcurrent: 4, maxFailures: 3 });
  // Two worker-like processes write the same active rollout at once; a third a finished one.
  await Promise.all([
    recordInChildProcess({
      redisUrl: REDIS_URL,
      prefix,
      rolloutId: 'r1',
      handovers: [updatedHost('a1'), updatedHost('a2'), rolledBackHost('a3'), stuckHost('a4', 120_000)],
    }),
    recordInChildProcess({ redisUrl: REDIS_URL, prefix, rolloutId: 'r1', handovers: [failedHost('b1'), updatedHost('b2')] }),
    recordInChildProcess({ redisUrl: REDIS_URL, prefix, rolloutId: 'r2', handovers: [skippedHost('c1'), updatedHost('c2')] }),
  ]);
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  queue = openEmptyJobs(connection, keys.bullPrefix(), HANDOVER_QUEUE);
  await queue.add(['j1', 'j2', 'j3'], { delayMs: 3_600_000 });
  worker = startEmptyJobWorker(connection, keys.bullPrefix(), HANDOVER_QUEUE);
  await worker.ready();
  app = await start();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await worker?.close();
  await queue?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

function expectFleetCounts(s: Sample[], updated = 4): void {
  expect(valueOf(s, 'luo_fleet_handovers_total', { outcome: 'updated' })).toBe(updated);
  expect(valueOf(s, 'luo_fleet_handovers_total', { outcome: 'rolled_back' })).toBe(1);
  expect(valueOf(s, 'luo_fleet_handovers_total', { outcome: 'failed' })).toBe(1);
  expect(valueOf(s, 'luo_fleet_handovers_total', { outcome: 'skipped' })).toBe(1);
  expect(valueOf(s, 'luo_fleet_handovers_total', { outcome: 'cancelled' })).toBe(0);

  const v = (stage: string, result: string, reason: string) =>
    valueOf(s, 'luo_fleet_device_validations_total', { stage, result, reason });
  expect(v('precheck', 'preservable', 'none')).toBe(2 * updated);
  expect(v('precheck', 'rejected', 'IS_VIRTFN')).toBe(updated);
  expect(v('precheck', 'rejected', 'GROUP_NOT_SINGLETON')).toBe(1);
  expect(v('retrieve', 'rejected', 'NOT_INCOMING')).toBe(1);
  expect(v('plan', 'rejected', 'IS_PHYSFN')).toBe(3);
  expect(s.filter((x) => x.name === 'luo_fleet_device_validations_total')).toHaveLength(5);

  // Buckets are cumulative in the exposition although stored per bound.
  const phase = (p: string, le: string) => valueOf(s, 'luo_fleet_phase_duration_seconds_bucket', { phase: p, le });
  const hosts = updated + 2; // updated + rolled back + failed went through precheck..kexec_load..preserve
  expect(phase('precheck', '0.001')).toBe(0);
  expect(phase('precheck', '0.005')).toBe(hosts);
  expect(phase('precheck', '+Inf')).toBe(hosts);
  expect(phase('kexec_load', '0.005')).toBe(hosts - 1);
  expect(phase('kexec_load', '0.01')).toBe(hosts - 1);
  expect(phase('kexec_load', '0.05')).toBe(hosts);
  expect(phase('preserve', '0.5')).toBe(hosts - 1);
  expect(phase('preserve', '1')).toBe(hosts);
  expect(valueOf(s, 'luo_fleet_phase_duration_seconds_count', { phase: 'preserve' })).toBe(hosts);
  expect(valueOf(s, 'luo_fleet_phase_duration_seconds_sum', { phase: 'preserve' })).toBeCloseTo(0.7 + (hosts - 1) * 0.002, 9);
  expect(valueOf(s, 'luo_fleet_phase_duration_seconds_count', { phase: 'unpreserve' })).toBe(1);
  expect(valueOf(s, 'luo_fleet_phase_duration_seconds_count', { phase: 'thaw' })).toBe(0);

  expect(valueOf(s, 'luo_fleet_blackout_seconds_bucket', { le: '0.25' })).toBe(0);
  expect(valueOf(s, 'luo_fleet_blackout_seconds_bucket', { le: '0.5' })).toBe(updated);
  expect(valueOf(s, 'luo_fleet_blackout_seconds_bucket', { le: '+Inf' })).toBe(updated);
  expect(valueOf(s, 'luo_fleet_blackout_seconds_count')).toBe(updated);
  expect(valueOf(s, 'luo_fleet_blackout_seconds_sum')).toBeCloseTo(0.3 * updated, 9);
}

describe('metrics exporter', () => {
  it('sums counts written by several processes, exactly', async () => {
    expectFleetCounts(await scrape(app.url));
  });

  it('reports the active rollout, in-flight hosts, queues, workers and the oldest step', async () => {
    const s = await scrape(app.url);
    expect(valueOf(s, 'luo_fleet_redis_up')).toBe(1);
    expect(valueOf(s, 'luo_fleet_hosts_in_flight')).toBe(1);
    expect(valueOf(s, 'luo_fleet_rollout_hosts', { rollout: 'r1', state: 'updated' })).toBe(3);
    expect(valueOf(s, 'luo_fleet_rollout_hosts', { rollout: 'r1', state: 'freeze' })).toBe(1);
    expect(valueOf(s, 'luo_fleet_rollout_hosts', { rollout: 'r1', state: 'pending' })).toBe(0);
    expect(s.some((x) => x.labels.rollout === 'r2')).toBe(false); // finished rollouts carry no label
    expect(valueOf(s, 'luo_fleet_rollout_failures', { rollout: 'r1' })).toBe(2);
    expect(valueOf(s, 'luo_fleet_rollout_max_failures', { rollout: 'r1' })).toBe(3);
    expect(valueOf(s, 'luo_fleet_rollout_max_concurrent', { rollout: 'r1' })).toBe(4);
    expect(valueOf(s, 'luo_fleet_queue_jobs', { queue: 'handover', state: 'delayed' })).toBe(3);
    expect(valueOf(s, 'luo_fleet_queue_jobs', { queue: 'rollout', state: 'waiting' })).toBe(0);
    expect(valueOf(s, 'luo_fleet_workers')).toBe(1);
    const age = valueOf(s, 'luo_fleet_oldest_step_age_seconds', { phase: 'freeze' });
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(180);
    expect(s.filter((x) => x.name === 'luo_fleet_oldest_step_age_seconds')).toHaveLength(1);
    expect(s.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(s.some((x) => 'host' in x.labels || 'hostId' in x.labels)).toBe(false);
  });

  it('never counts twice: repeated scrapes and a restarted app show the same numbers', async () => {
    expectFleetCounts(await scrape(app.url));
    expectFleetCounts(await scrape(app.url));
    await app.close();
    app = await start();
    expectFleetCounts(await scrape(app.url));
  });

  it('keeps reading active rollouts while finished ones come from its cache', async () => {
    await scrape(app.url); // r2 is settled from here on
    await recordInChildProcess({ redisUrl: REDIS_URL, prefix, rolloutId: 'r1', handovers: [updatedHost('a5')] });
    expectFleetCounts(await scrape(app.url), 5);
  });

  it('answers /health with the Redis ping', async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { info: Record<string, { status: string }> }).info.redis.status).toBe('up');
  });
});

describe('metrics exporter without Redis', () => {
  it('reports luo_fleet_redis_up 0 and no fleet numbers, and /health is 503', async () => {
    const down = await createMetricsApp(
      { redis: { url: 'redis://127.0.0.1:1', prefix }, host: '127.0.0.1', port: 0, redisTimeoutMs: 300 },
      ['error'],
    );
    try {
      const s = await scrape(down.url);
      expect(valueOf(s, 'luo_fleet_redis_up')).toBe(0);
      expect(s.some((x) => x.name === 'luo_fleet_handovers_total')).toBe(false);
      expect((await fetch(`${down.url}/health`)).status).toBe(503);
    } finally {
      await down.close();
    }
  });
});
