/**
 * A fleet of 100,000 hosts (BENCH_HOSTS to change it):
 * generated with 32 devices each, registered through the planner's POST /v1/hosts:batch (1000 per
 * call), planned and created as one rollout through POST /v1/rollouts (maxConcurrent 1000, zero
 * phase latency), run to the end by two workers (concurrency 500 each). Prints hosts/s of each
 * stage, the workers' peak RSS, and the Redis memory the rollout leaves per finished host, by key
 * kind, before and after `compactFinishedRollout` (target: under 2 KiB per host).
 */
import { performance } from 'node:perf_hooks';
import { compactFinishedRollout } from '@luo-fleet/store';
import { FleetKeys } from '@luo-fleet/redis';
import { BENCH_REDIS_URL, benchNamespace, usedMemory } from './bench-redis';
import { spawnWorker, until, workerEnv } from './bench-processes';
import { startBenchPlanner, withBenchApps } from './bench-planner';
import { createBenchRollout, outcomeCount, registerHosts } from './bench-fleet';
import { keyCensus, mib, printCensus, type KeyKind } from './key-census';

export const name = 'scale';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const CONCURRENCY = 1_000;
const WORKERS = 2;
const SEED = 5;
const KIB_TARGET = 2;

const simulationOnly = (k: KeyKind) => k.kind.includes(':sim:host:');
const inventory = (k: KeyKind) => k.kind.includes('{inventory}');

function report(title: string, census: KeyKind[], hosts: number): number {
  // The simulated hosts' own records stand in for real machines, and the inventory existed before
  // the rollout: neither is what the rollout leaves behind.
  const rollout = census.filter((k) => !simulationOnly(k) && !inventory(k));
  printCensus(`${title}, rollout keys`, rollout, hosts);
  const other = census.filter((k) => simulationOnly(k) || inventory(k));
  printCensus(`${title}, inventory and simulated hosts (not counted)`, other, hosts, 4);
  return rollout.reduce((a, k) => a + k.bytes, 0) / hosts / 1024;
}

export async function run(): Promise<void> {
  const ns = benchNamespace('scale');
  const keys = new FleetKeys(ns.prefix);
  await withBenchApps(ns, async (apps) => {
    const planner = (apps.planner = await startBenchPlanner(BENCH_REDIS_URL, ns.prefix));
    const register = await registerHosts(planner, SEED, 'scale', 0, HOSTS, { devices: 32 });
    console.log(`register: ${HOSTS} hosts (32 devices) through POST /v1/hosts:batch in ${register.toFixed(1)} s = ${Math.round(HOSTS / register)} hosts/s`);
    const memBefore = usedMemory(await ns.redis.info('memory'));

    apps.workers = [...Array(WORKERS)].map(() =>
      spawnWorker(workerEnv(BENCH_REDIS_URL, ns.prefix, {
          WORKER_CONCURRENCY: String(CONCURRENCY / WORKERS),
          SIM_FIXED_LATENCY_MS: '0',
          SIM_LATENCY_SCALE: '0',
          BOOT_POLL_MS: '1',
          SAME_BOOT_GRACE_MS: '0',
          COORDINATOR_TICK_MS: '20',
        }),
      ),
    );
    const t0 = performance.now();
    const created = await createBenchRollout(planner, 'scale', CONCURRENCY);
    const create = (performance.now() - t0) / 1000;
    const id = created.rollout.id;
    console.log(`plan+create: ${created.plan.hosts} hosts (${created.plan.eligible} eligible, ${created.plan.skipped} skipped) in ${create.toFixed(1)} s = ${Math.round(HOSTS / create)} hosts/s`);
    const t1 = performance.now();
    await until('rollout outcomes', async () => (await outcomeCount(ns.redis, keys.stats(id))) >= created.plan.hosts, 600_000, 100);
    const runSeconds = (performance.now() - t1) / 1000;
    await until('rollout finished', async () => (await ns.redis.hget(keys.admission(id), 'finishedAt')) !== null, 30_000, 50);
    const updated = Number(await ns.redis.hget(keys.stats(id), 'h|updated'));
    console.log(`run: ${created.plan.hosts} outcomes (${updated} updated) in ${runSeconds.toFixed(1)} s = ${Math.round(created.plan.hosts / runSeconds)} hosts/s, ${Math.round(created.plan.eligible / runSeconds)} handovers/s`);
    console.log(`worker peak RSS (VmHWM): ${apps.workers.map((w) => `${Math.round(w.peakRssKiB() / 1024)} MiB`).join(', ')}`);
    // The shared Redis also serves others, so used_memory is only indicative; the census is ours alone.
    const memAfter = usedMemory(await ns.redis.info('memory'));
    console.log(`used_memory delta (create..finished, shared Redis): ${mib(memAfter - memBefore)} = ${((memAfter - memBefore) / HOSTS / 1024).toFixed(2)} KiB per host`);

    const before = report('after the rollout', await keyCensus(ns.redis, ns.prefix, [id]), HOSTS);
    console.log(`${before < KIB_TARGET ? 'PASS' : 'MISS'} under ${KIB_TARGET} KiB of Redis per finished host after the rollout (${before.toFixed(2)} KiB)`);

    const t2 = performance.now();
    const compaction = await compactFinishedRollout(ns.redis, keys, id);
    console.log(`compactFinishedRollout: ${JSON.stringify(compaction)} in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
    const after = report('after compaction', await keyCensus(ns.redis, ns.prefix, [id]), HOSTS);
    console.log(`${after < KIB_TARGET ? 'PASS' : 'MISS'} under ${KIB_TARGET} KiB of Redis per finished host after compaction (${after.toFixed(2)} KiB)`);
  });
}
