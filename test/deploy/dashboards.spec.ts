import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsApp, type MetricsApp } from '../metrics/metrics-app-under-test';
import { scrape } from '../metrics/exposition';
import { deleteKeys, REDIS_URL, testPrefix } from '../metrics/redis-fixture';
import { alertRules, dashboardQueries, dashboards, metricNamesIn, panelsOf } from './deploy-files';
import { startFleetTraffic } from './fleet-traffic';

const prefix = testPrefix();
const redis = new IORedis(REDIS_URL);
let app: MetricsApp;
let exported: Set<string>;

beforeAll(async () => {
  const traffic = await startFleetTraffic(redis, prefix);
  await traffic.stop();
  app = await createMetricsApp({ redis: { url: REDIS_URL, prefix }, host: '127.0.0.1', port: 0 }, ['error']);
  exported = new Set((await scrape(app.url)).map((s) => s.name));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('Grafana dashboards', () => {
  it('parse, have a uid each and unique panel ids per dashboard', () => {
    const all = dashboards();
    expect(all.map((d) => d.file).sort()).toEqual(['fleet-overview.json', 'phases.json', 'queues.json', 'validation.json']);
    expect(new Set(all.map((d) => d.json.uid)).size).toBe(all.length);
    for (const { file, json } of all) {
      const ids = panelsOf(json).map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
  });

  it('query only metrics the exporter exports', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    for (const q of queries) {
      const names = metricNamesIn(q.expr);
      expect(names.length, `${q.dashboard} / ${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${q.dashboard} / ${q.panel} uses ${name}`).toBe(true);
    }
  });

  it('and so do the alert rules', () => {
    for (const rule of alertRules()) {
      for (const name of metricNamesIn(rule.expr)) expect(exported.has(name), `${rule.alert} uses ${name}`).toBe(true);
    }
  });
});
