/**
 * The planner as the benchmarks use it: a spawned child (its latency is measured from another
 * process, not from inside the one that serves it), an operator token, and JSON calls.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { spawnBuilt, until, type BenchChild } from './bench-processes';
import type { BenchNamespace } from './bench-redis';

export interface BenchPlanner {
  readonly base: string;
  readonly child: BenchChild;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => done(port));
    });
  });
}

export async function startBenchPlanner(redisUrl: string, prefix: string): Promise<BenchPlanner> {
  const token = `bench-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const child = spawnBuilt('apps/planner/src/main.js', {
    REDIS_URL: redisUrl,
    LUO_FLEET_PREFIX: prefix,
    LUO_FLEET_TOKENS: `bench:operator:${token}`,
    PLANNER_PORT: String(port),
    PLANNER_HOST: '127.0.0.1',
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  try {
    await until('planner to listen', async () => (await call('GET', '/v1/rollouts?limit=1').catch(() => ({ status: 0 }))).status === 200, 60_000, 100);
  } catch (err) {
    console.error(child.output().slice(-2_000));
    await child.stop('SIGKILL');
    throw err;
  }
  return { base, child, call, stop: () => child.stop() };
}

/** What a benchmark body started: recorded so that it is stopped whatever happens. */
export interface BenchApps {
  planner?: BenchPlanner;
  workers: BenchChild[];
}

/**
 * Runs a benchmark that starts a planner and workers: on failure prints the end of their output,
 * and always stops them and drops the benchmark's namespace.
 */
export async function withBenchApps(ns: BenchNamespace, body: (apps: BenchApps) => Promise<void>): Promise<void> {
  const apps: BenchApps = { workers: [] };
  try {
    await body(apps);
  } catch (err) {
    for (const w of apps.workers) console.error(w.output().slice(-2_000));
    if (apps.planner) console.error(apps.planner.child.output().slice(-2_000));
    throw err;
  } finally {
    await Promise.all(apps.workers.map((w) => w.stop()));
    await apps.planner?.stop();
    await ns.drop();
  }
}
