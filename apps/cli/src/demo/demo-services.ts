import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@luo-fleet/redis';
import { ApiClient } from '../api-client';
import { DemoInfrastructureError, type DemoProcesses } from './demo-processes';
import type { DemoRedis } from './demo-redis';

export const WORKER_COUNT = 2;
const HEALTH_TIMEOUT_MS = 60_000;

/**
 * A simulated kexec boot takes 60 s at its p99 at scale 1; three times that, scaled, and never less
 * than 20 s, so only hosts that really never come back fail on the boot timeout.
 */
export function bootTimeoutMs(latencyScale: number): number {
  return Math.max(20_000, Math.round(3 * 60_000 * latencyScale));
}

/** The running planner, workers and metrics exporter of the demo. */
export interface DemoServices {
  /** The planner's API with the demo's operator token. */
  planner: ApiClient;
  plannerUrl: string;
  metricsUrl: string;
  /** Child names, for stopping the apps before the Redis they use. */
  names: string[];
}

/**
 * Starts the luo-fleet apps as a real deployment runs them (separate processes sharing one Redis),
 * on free local ports, and waits until the planner and the exporter answer /health.
 */
export async function startDemoServices(
  processes: DemoProcesses,
  redis: DemoRedis,
  opts: { latencyScale: number; gaveUp: () => boolean },
): Promise<DemoServices> {
  // NO_COLOR: the children write to a log file, not a terminal.
  const shared = { REDIS_URL: redis.url, LUO_FLEET_PREFIX: redis.prefix, LOG_LEVEL: 'warn', NO_COLOR: '1' };
  const token = randomBytes(24).toString('hex');
  const [plannerPort, metricsPort] = [await freePort(), await freePort()];
  const names = ['planner', 'metrics'];
  processes.startApp('planner', 'planner', { ...shared, PLANNER_HOST: '127.0.0.1', PLANNER_PORT: String(plannerPort), LUO_FLEET_TOKENS: `demo:operator:${token}` });
  for (let i = 1; i <= WORKER_COUNT; i++) {
    names.push(`worker-${i}`);
    processes.startApp(`worker-${i}`, 'worker', {
      ...shared,
      WORKER_CONCURRENCY: '100',
      SIM_LATENCY_SCALE: String(opts.latencyScale),
      // Scaled-down boot waits to match the scaled-down simulated boots.
      BOOT_POLL_MS: '100',
      SAME_BOOT_GRACE_MS: '2000',
      BOOT_TIMEOUT_MS: String(bootTimeoutMs(opts.latencyScale)),
    });
  }
  processes.startApp('metrics', 'metrics', { ...shared, METRICS_HOST: '127.0.0.1', METRICS_PORT: String(metricsPort) });
  const plannerUrl = `http://127.0.0.1:${plannerPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const planner = new ApiClient({ api: plannerUrl, token });
  await Promise.all([waitUntilHealthy(planner, plannerUrl, opts.gaveUp), waitUntilHealthy(new ApiClient({ api: metricsUrl }), metricsUrl, opts.gaveUp)]);
  return { planner, plannerUrl, metricsUrl, names };
}

/** Polls GET /health of `url` until it answers 2xx; gives up after HEALTH_TIMEOUT_MS or when `gaveUp()` says so. */
async function waitUntilHealthy(client: ApiClient, url: string, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (!gaveUp() && !(await client.isHealthy())) {
    if (Date.now() > deadline) throw new DemoInfrastructureError(`${url}/health did not answer healthy within ${HEALTH_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}
