import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@luo-fleet/redis';
import { createMetricsApp, type MetricsApp } from '../metrics/metrics-app-under-test';
import { failedHost } from '../metrics/handover-scenario';
import { deleteKeys, REDIS_URL, testPrefix } from '../metrics/redis-fixture';
import { recordHandovers } from '../support/metrics-record-handovers';
import { alertRules, asPromQL, dashboardQueries, REPO, RULES_FILE } from './deploy-files';
import { startFleetTraffic } from './fleet-traffic';

const installed = (bin: string) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const available = installed('prometheus') && installed('promtool');
if (!available && !process.env.CI) {
  console.warn('test/deploy/prometheus.spec.ts skipped: prometheus/promtool not installed (apt-get install -y prometheus); CI runs it');
}

/** Panels that must show data while handovers are being recorded. */
const CORE_PANELS = [
  'Hosts in flight',
  'Outcomes over time',
  'In flight against max_concurrent',
  'Progress of each active rollout',
  'Failure budget',
  'Rejections by reason',
  'Phase duration p99',
  'Blackout p50 / p99',
  'Oldest host in each step',
  'Queue depth by state',
];

describe.skipIf(!available && !process.env.CI)('deploy/ against a real Prometheus', () => {
  const prefix = testPrefix();
  const redis = new IORedis(REDIS_URL);
  const dir = mkdtempSync(join(tmpdir(), 'luo-prom-'));
  let app: MetricsApp;
  let traffic: { stop(): Promise<void> } | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;

  const query = async (expr: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  };

  beforeAll(async () => {
    traffic = await startFleetTraffic(redis, prefix);
    app = await createMetricsApp({ redis: { url: REDIS_URL, prefix }, host: '127.0.0.1', port: 0 }, ['error']);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    mkdirSync(join(dir, 'rules'));
    copyFileSync(RULES_FILE, join(dir, 'rules/luo-fleet.rules.yml'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules/*.yml]',
        'scrape_configs:',
        '  - job_name: luo-fleet-metrics',
        `    static_configs: [{ targets: ['${new URL(app.url).host}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    await poll(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true, 60_000, 'Prometheus ready');
    // Enough scrapes for rate() over 1m to see increases.
    await poll(async () => ((await query('count_over_time(luo_fleet_handovers_total{outcome="updated"}[1m])')).data?.result.length ?? 0) > 0 &&
      ((await query('increase(luo_fleet_handovers_total{outcome="updated"}[1m]) > 0')).data?.result.length ?? 0) > 0, 60_000, 'scraped data');
  }, 150_000);

  afterAll(async () => {
    await traffic?.stop();
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    await app?.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('promtool accepts the scrape config and the alert rules', () => {
    for (const args of [
      ['check', 'config', join(REPO, 'deploy/prometheus/prometheus.yml')],
      ['check', 'config', join(REPO, 'deploy/prometheus/prometheus.local.yml')],
      ['check', 'rules', RULES_FILE],
    ]) {
      const run = spawnSync('promtool', args, { encoding: 'utf8' });
      expect(run.status, `promtool ${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
    }
  });

  it('evaluates every dashboard query and every alert expression without error', async () => {
    const exprs = [...dashboardQueries().map((q) => `${q.dashboard} / ${q.panel}: ${q.expr}`), ...alertRules().map((r) => `${r.alert}: ${r.expr}`)];
    for (const labelled of exprs) {
      const expr = labelled.slice(labelled.indexOf(': ') + 2);
      const answer = await query(asPromQL(expr));
      expect(answer.status, `${labelled} -> ${answer.error}`).toBe('success');
    }
  });

  it('shows data in the core panels', async () => {
    const queries = dashboardQueries();
    for (const title of CORE_PANELS) {
      const panelQueries = queries.filter((q) => q.panel === title);
      expect(panelQueries.length, title).toBeGreaterThan(0);
      for (const q of panelQueries) {
        const answer = await query(asPromQL(q.expr));
        expect(answer.data?.result.length ?? 0, `${title}: ${q.expr}`).toBeGreaterThan(0);
      }
    }
  });

  it('loads every alert rule and evaluates it healthily; the post-kexec failure and budget alerts fire', async () => {
    type Rules = { data: { groups: { rules: { name: string; health: string; lastError?: string; state?: string }[] }[] } };
    let rules: Rules['data']['groups'][number]['rules'] = [];
    // A failure Prometheus sees happen (an increase between scrapes, not a counter first seen at 1).
    await recordHandovers({ redisUrl: REDIS_URL, prefix, rolloutId: 'live', handovers: [failedHost('late-failure')] });
    await poll(async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Rules;
      rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => r.health === 'ok') &&
        rules.some((r) => r.name === 'LuoFleetPostKexecFailure' && r.state === 'firing');
    }, 20_000, 'rules evaluated').catch(() => undefined);
    expect(rules.map((r) => r.name).sort()).toEqual(alertRules().map((r) => r.alert).sort());
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
    const state = (name: string) => rules.find((r) => r.name === name)?.state;
    expect(state('LuoFleetPostKexecFailure')).toBe('firing');
    // The live rollout's failed and rolled-back hosts are past 80% of max_failures 2.
    expect(state('LuoFleetFailureBudgetBurning')).toBe('firing');
    expect(state('LuoFleetRedisUnreachable')).toBe('inactive');
  }, 60_000);
});

async function poll(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}
