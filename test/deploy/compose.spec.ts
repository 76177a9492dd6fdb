import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '@luo-fleet/jobs';
import { REPO } from './deploy-files';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
}

const compose = load(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const APP_SERVICES = ['planner', 'worker', 'metrics'];

/** Every source file an app's configuration can come from: the app and the shared Redis settings. */
function sourcesOf(app: string): string {
  const files: string[] = [join(REPO, 'libs/redis/src/redis-connection.ts')];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.spec.ts')) files.push(p);
    }
  };
  walk(join(REPO, `apps/${app}/src`));
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'metrics', 'planner', 'prometheus', 'redis', 'worker']);
    expect(compose.services.worker.deploy?.replicas).toBe(2);
  });

  it('runs Redis with AOF and noeviction', () => {
    const redis = compose.services.redis;
    expect(redis.image).toBe('redis:7');
    const cmd = ([] as string[]).concat(redis.command ?? []).join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--appendfsync everysec/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
  });

  it('builds every app from the one Dockerfile and runs its built main (workers with WORKER_NODE_FLAGS)', () => {
    expect(existsSync(join(REPO, 'Dockerfile'))).toBe(true);
    for (const name of APP_SERVICES) {
      const s = compose.services[name];
      expect(s.build, name).toBe('.');
      const flags = name === 'worker' ? WORKER_NODE_FLAGS : [];
      expect(s.command, name).toEqual(['node', ...flags, `dist/apps/${name}/src/main.js`]);
      expect(existsSync(join(REPO, `apps/${name}/src/main.ts`)), name).toBe(true);
    }
  });

  it('sets only environment variables the apps read, and binds HTTP apps to 0.0.0.0', () => {
    for (const name of APP_SERVICES) {
      const env = compose.services[name].environment ?? {};
      const source = sourcesOf(name);
      expect(Object.keys(env).length, name).toBeGreaterThan(0);
      for (const key of Object.keys(env)) expect(source.includes(key), `${name} does not read ${key}`).toBe(true);
    }
    expect(compose.services.planner.environment?.PLANNER_HOST).toBe('0.0.0.0');
    expect(compose.services.metrics.environment?.METRICS_HOST).toBe('0.0.0.0');
  });

  it('has no default API token: the planner does not start without LUO_FLEET_TOKENS', () => {
    expect(compose.services.planner.environment?.LUO_FLEET_TOKENS).toMatch(/^\$\{LUO_FLEET_TOKENS:\?[^}]+\}$/);
    expect(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')).not.toMatch(/LUO_FLEET_TOKENS:-/);
  });

  it('mounts paths that exist in the repository, where the images look for them', () => {
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []).filter((v) => v.startsWith('./'));
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    for (const m of mounts) expect(existsSync(join(REPO, m.split(':')[0])), m).toBe(true);
    const grafana = compose.services.grafana.volumes ?? [];
    expect(grafana).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const provider = readFileSync(join(REPO, 'deploy/grafana/provisioning/dashboards/luo-fleet.yml'), 'utf8');
    const dashboardsMount = grafana.find((v) => v.startsWith('./deploy/grafana/dashboards:'))!.split(':')[1];
    expect(provider).toContain(`path: ${dashboardsMount}`);
  });

  it('points Prometheus at the metrics service port', () => {
    const prom = readFileSync(join(REPO, 'deploy/prometheus/prometheus.yml'), 'utf8');
    expect(prom).toContain(`metrics:${compose.services.metrics.environment?.METRICS_PORT}`);
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
  });
});
