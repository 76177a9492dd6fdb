import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, FleetKeys, freePort } from '@luo-fleet/redis';
import { RedisSimulatedHostStore } from '@luo-fleet/simulated-host';
import { ChaosProcesses } from './chaos-processes';
import { ChaosRedis } from './chaos-redis';
import { createChaosRollout, registerFleet, type FleetHost } from './chaos-fleet';
import type { ChaosOptions } from './chaos-options';
import { runChecks, type CheckResult } from './chaos-checks';
import { planDisruptions, runDisruptions, type DisruptionKind } from './disruptions';
import { readHosts, scrapeHandovers } from './evidence';
import { FleetApps } from './fleet-apps';
import { InFlightSampler } from './in-flight-sampler';
import { sleep } from './seeded';
import type { HostTruth } from './host-truth';

export interface ChaosReport {
  options: ChaosOptions;
  rolloutId: string;
  hosts: number;
  eligible: number;
  status: string;
  maxFailures: number;
  maxConcurrent: number;
  truths: Record<HostTruth, number>;
  outcomes: Record<string, number>;
  makespanMs: number;
  disruptions: Record<DisruptionKind, number>;
  maxInFlight: number;
  samples: number;
  checks: CheckResult[];
  ok: boolean;
  /** Kept only when a check failed. */
  logFile?: string;
}

/** A simulated kexec boot is 60 s at p99 at scale 1: three times that, scaled, at least 10 s. */
function bootTimeoutMs(scale: number): number {
  return Math.max(10_000, Math.round(3 * 60_000 * scale));
}

/**
 * One chaos run: its own Redis (AOF), planner, workers and metrics exporter; a simulated fleet and
 * rollout through the planner's API; seeded disruptions while it rolls; then the checks of
 * chaos-checks.ts against Redis, the hosts' own records and the exporter.
 */
export async function runChaos(options: ChaosOptions, log: (line: string) => void = console.log): Promise<ChaosReport> {
  const dir = mkdtempSync(join(tmpdir(), 'luo-chaos-'));
  const processes = new ChaosProcesses(join(dir, 'chaos.log'), options.dist);
  const onSignal = () => {
    processes.killAllNow();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  const redis = new ChaosRedis(processes, await freePort(), dir);
  const prefix = `luo-chaos-${options.seed}`;
  const keys = new FleetKeys(prefix);
  const lockMs = options.ci ? 4_000 : 6_000;
  const apps = new FleetApps(processes, redis, prefix, { planner: await freePort(), metrics: await freePort() }, {
    WORKER_CONCURRENCY: '100',
    // Short locks so a killed worker's jobs move on in seconds; longer than a Redis restart so a
    // live worker's lease does not expire while Redis is away.
    LEASE_TTL_MS: String(lockMs),
    JOB_LOCK_MS: String(lockMs),
    STALLED_INTERVAL_MS: '1000',
    COORDINATOR_TICK_MS: '50',
    SIM_LATENCY_SCALE: String(options.latencyScale),
    BOOT_POLL_MS: '100',
    SAME_BOOT_GRACE_MS: '2000',
    BOOT_TIMEOUT_MS: String(bootTimeoutMs(options.latencyScale)),
  });
  const client = () => connectRedis({ url: redis.url, prefix });
  try {
    await redis.start();
    await Promise.all([apps.startPlanner(), apps.startMetrics()]);
    for (let i = 0; i < options.workers; i++) apps.startWorker();
    log(`seed ${options.seed}: redis :${redis.port} (AOF in ${dir}), planner :${apps.ports.planner}, metrics :${apps.ports.metrics}, ${options.workers} workers`);

    const fleet: FleetHost[] = await registerFleet(apps.api, options.hosts, options.seed);
    const eligible = fleet.filter((h) => h.eligible).length;
    // Normal run: a budget the injected faults (~9% of the hosts handed over) stay well under; budget test: a few hosts.
    const maxFailures = options.budgetTest ? 3 : Math.ceil(fleet.length * 0.2);
    const startedAt = Date.now();
    const created = await createChaosRollout(apps.api, { seed: options.seed, maxConcurrent: options.maxConcurrent, maxFailures });
    const id = created.rollout.id;
    log(`rollout ${id}: ${fleet.length} hosts registered through POST /v1/hosts:batch, ${created.plan.eligible} eligible, created through POST /v1/rollouts (maxConcurrent ${created.rollout.limits.maxConcurrent}, maxFailures ${created.rollout.limits.maxFailures})`);

    const sampler = new InFlightSampler(redis.url, keys, id, () => redis.down);
    sampler.start();
    const watcher = client();
    watcher.on('error', () => undefined);
    let finishedAt: number | undefined;
    const finished = () => finishedAt !== undefined;
    const watching = (async () => {
      const deadline = Date.now() + (options.ci ? 150_000 : 15 * 60_000);
      while (Date.now() < deadline) {
        const at = redis.down ? null : await watcher.hget(keys.admission(id), 'finishedAt').catch(() => null);
        if (at) {
          finishedAt = Number(at);
          return;
        }
        await sleep(100);
      }
      throw new Error(`rollout ${id} did not finish in time`);
    })();
    const draining = async () => {
      if (redis.down) return [];
      const states = await watcher.hgetall(keys.hostStates(id)).catch(() => ({}) as Record<string, string>);
      return Object.keys(states).filter((host) => states[host] === 'drain');
    };
    const disruptions = await runDisruptions(planDisruptions(options.seed, options.ci), { seed: options.seed, startedAt, apps, redis, finished, draining, log });
    await watching;
    await sampler.stop();
    const makespanMs = finishedAt! - startedAt;
    log(`rollout finished after ${(makespanMs / 1000).toFixed(1)} s; checking`);

    const adm = await watcher.hgetall(keys.admission(id));
    const [states, results, hosts, plannerView, scraped, placements] = await Promise.all([
      watcher.hgetall(keys.hostStates(id)),
      watcher.hgetall(keys.results(id)),
      readHosts(watcher, keys, id, fleet),
      apps.api.call<{ status: string; finished: number }>('GET', `/v1/rollouts/${id}`),
      scrapeHandovers(apps.metricsUrl),
      new RedisSimulatedHostStore(watcher, prefix).placements(),
    ]);
    watcher.disconnect();
    // Journals as copied before compaction; a host finished in the last moments may have been cut already.
    for (const [host, entries] of sampler.journals) hosts.journals.set(host, entries);
    const { checks, truths } = runChecks({
      fleet,
      states,
      results,
      ...hosts,
      admission: {
        status: adm.status,
        statusReason: adm.statusReason,
        failures: Number(adm.failures),
        maxFailures: Number(adm.maxFailures),
        maxConcurrent: Number(adm.maxConcurrent),
        finished: Number(adm.finished),
      },
      plannerView,
      metricsByOutcome: scraped.byOutcome,
      vmsByKind: scraped.vmsByKind,
      placements,
      maxInFlight: sampler.max,
      samples: sampler.samples,
      requiredDisruptions: options.ci && !options.budgetTest ? ['worker-sigkill', 'coordinator-sigkill', 'planner-restart', 'redis-restart', 'drain-sigkill'] : [],
      disruptions,
      expectHalt: options.budgetTest,
    });
    const outcomes: Record<string, number> = {};
    for (const s of Object.values(states)) outcomes[s] = (outcomes[s] ?? 0) + 1;
    ok = checks.every((c) => c.ok);
    return {
      options,
      rolloutId: id,
      hosts: fleet.length,
      eligible,
      status: adm.status,
      maxFailures: Number(adm.maxFailures),
      maxConcurrent: Number(adm.maxConcurrent),
      truths,
      outcomes,
      makespanMs,
      disruptions,
      maxInFlight: sampler.max,
      samples: sampler.samples,
      checks,
      ok,
      ...(ok ? {} : { logFile: join(dir, 'chaos.log') }),
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(child output kept in ${join(dir, 'chaos.log')})`, { cause: err });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await processes.stopAll((names) => apps.stopOrder(names));
    await processes.close();
    // The Redis (and its AOF) was the run's own: nothing to delete elsewhere. Kept for diagnosis on failure.
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}
