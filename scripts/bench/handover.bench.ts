/**
 * Handover throughput of the orchestrator itself: 10,000 simulated hosts with zero phase latency,
 * two worker processes at concurrency 100, all jobs enqueued at once. Baseline in the same run:
 * the same number of EMPTY BullMQ jobs through two no-op workers of the same concurrency.
 * Targets: handovers/s >= 1/4 of empty jobs/s, and >= 1,000/s.
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, createSimulatedHost, RedisSimulatedHostStore, type HandoverPlan } from '@luo-fleet/handover';
import { FleetKeys, HANDOVER_JOB_OPTIONS, HANDOVER_QUEUE, type HandoverJobData } from '@luo-fleet/queue';
import { ACS_ENABLED, TopologyBuilder } from '@luo-fleet/topology';
import { BENCH_REDIS_URL, benchNamespace, redisCpuSeconds } from './bench-redis';
import { spawnBuilt, until, workerEnv, type BenchChild } from './bench-processes';

export const name = 'handover';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const CONCURRENCY = 100;
const WORKERS = 2;
const BATCH = 1_000;
const ROLLOUT = 'bench';
/** Extra node flags for the handover workers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** A GPU host: two GPUs each alone in its group behind ACS-enabled root ports, plus a SATA controller. */
function gpuHost() {
  const b = new TopologyBuilder();
  b.add('0000:00:01.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 1, class: 0x060400 });
  b.add('0000:00:02.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 2, class: 0x060400 });
  b.add('0000:01:00.0', { parent: '0000:00:01.0', vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint', group: 10 });
  b.add('0000:02:00.0', { parent: '0000:00:02.0', vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint', group: 11 });
  b.add('0000:00:1f.2', { class: 0x010601, driver: 'ahci', group: 20 });
  return b.build();
}

async function addInBatches<T>(queue: Queue<T>, jobs: { name: string; data: T; opts: object }[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += BATCH) await queue.addBulk(jobs.slice(i, i + BATCH) as never);
}

async function workersReady(queue: Queue, n: number): Promise<void> {
  await until(`${n} workers on queue ${queue.name}`, async () => (await queue.getWorkersCount()) >= n, 60_000, 100);
}

/** Jobs per second of EMPTY jobs: BullMQ's own ceiling on this machine and Redis. */
async function emptyJobRate(): Promise<number> {
  const ns = benchNamespace('empty');
  const bullPrefix = `{${ns.prefix}}`;
  const queue = new Queue('empty', { connection: { url: BENCH_REDIS_URL }, prefix: bullPrefix });
  const children: BenchChild[] = [];
  try {
    for (let w = 0; w < WORKERS; w++) {
      children.push(
        spawnBuilt('scripts/bench/empty-job-worker.js', {
          REDIS_URL: BENCH_REDIS_URL,
          BENCH_BULL_PREFIX: bullPrefix,
          BENCH_QUEUE: 'empty',
          WORKER_CONCURRENCY: String(CONCURRENCY),
        }),
      );
    }
    await workersReady(queue, WORKERS);
    const jobs = [...Array(HOSTS)].map((_, i) => ({ name: 'empty', data: { i }, // Kept until counted (handover jobs keep fewer; their completions are counted from the stats hash).
      opts: { ...HANDOVER_JOB_OPTIONS, removeOnComplete: { count: HOSTS }, jobId: `e.${i}` } }));
    const cpu0 = { redis: await redisCpuSeconds(ns.redis), workers: children.map((c) => c.cpuSeconds()) };
    const t0 = performance.now();
    await addInBatches(queue, jobs);
    await until('empty jobs', async () => (await queue.getCompletedCount()) >= HOSTS, 120_000, 10);
    const seconds = (performance.now() - t0) / 1000;
    const redisCpu = (await redisCpuSeconds(ns.redis)) - cpu0.redis;
    const workerCpu = children.reduce((sum, c, i) => sum + c.cpuSeconds() - cpu0.workers[i], 0);
    console.log(
      `empty jobs: ${HOSTS} in ${seconds.toFixed(2)} s = ${Math.round(HOSTS / seconds)}/s (${WORKERS} workers x concurrency ${CONCURRENCY}); ` +
        `CPU per job: Redis ${((redisCpu / HOSTS) * 1e6).toFixed(0)} us, workers ${((workerCpu / HOSTS) * 1e6).toFixed(0)} us`,
    );
    return HOSTS / seconds;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await queue.close();
    await ns.drop();
  }
}

async function handoverRate(): Promise<number> {
  const ns = benchNamespace('handover');
  const keys = new FleetKeys(ns.prefix);
  const store = new RedisSimulatedHostStore(ns.redis, ns.prefix);
  const queue = new Queue<HandoverJobData>(HANDOVER_QUEUE, { connection: { url: BENCH_REDIS_URL }, prefix: keys.bullPrefix() });
  const children: BenchChild[] = [];
  try {
    const topology = gpuHost();
    const preservationSet = buildPreservationSet(topology, undefined);
    const plans: HandoverPlan[] = [];
    const t0 = performance.now();
    for (let i = 0; i < HOSTS; i += BATCH) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(HOSTS, i + BATCH); j++) {
        const hostId = `sim-${String(j).padStart(5, '0')}`;
        // Commands issued without awaiting each one go out pipelined on the one connection.
        batch.push(createSimulatedHost(store, { hostId, seed: 7, topology, kernelRelease: '6.12.0-lts' }));
        plans.push(buildHandoverPlan({ hostId, rolloutId: ROLLOUT, targetKernel: '6.18.3-luo', topology, preservationSet }));
      }
      await Promise.all(batch);
    }
    console.log(`created ${HOSTS} simulated hosts in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    for (let w = 0; w < WORKERS; w++) {
      children.push(
        spawnBuilt(
          'apps/worker/src/main.js',
          workerEnv(BENCH_REDIS_URL, ns.prefix, {
            WORKER_CONCURRENCY: String(CONCURRENCY),
            SIM_FIXED_LATENCY_MS: '0',
            SIM_LATENCY_SCALE: '0',
            BOOT_POLL_MS: '1',
            SAME_BOOT_GRACE_MS: '0',
          }),
          WORKER_NODE_ARGS,
        ),
      );
    }
    await workersReady(queue, WORKERS);
    const jobs = plans.map((plan) => ({ name: 'handover', data: { plan, driver: { kind: 'simulated' as const } }, opts: { ...HANDOVER_JOB_OPTIONS, jobId: plan.handoverId } }));
    const cpu0 = { redis: await redisCpuSeconds(ns.redis), workers: children.map((c) => c.cpuSeconds()) };
    const t1 = performance.now();
    await addInBatches(queue, jobs);
    const enqueued = performance.now() - t1;
    let done = 0;
    await until('handover outcomes', async () => {
      const counts = await ns.redis.hmget(keys.stats(ROLLOUT), 'h|updated', 'h|rolled_back', 'h|failed', 'h|skipped');
      done = counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
      return done >= HOSTS;
    }, 170_000, 10);
    const seconds = (performance.now() - t1) / 1000;
    const updated = Number(await ns.redis.hget(keys.stats(ROLLOUT), 'h|updated'));
    console.log(`handovers: ${HOSTS} in ${seconds.toFixed(2)} s = ${Math.round(HOSTS / seconds)}/s (${updated} updated; enqueue took ${(enqueued / 1000).toFixed(2)} s)`);
    const redisCpu = (await redisCpuSeconds(ns.redis)) - cpu0.redis;
    const workerCpu = children.reduce((sum, c, i) => sum + c.cpuSeconds() - cpu0.workers[i], 0);
    console.log(
      `CPU per handover: Redis ${((redisCpu / HOSTS) * 1e6).toFixed(0)} us, workers ${((workerCpu / HOSTS) * 1e6).toFixed(0)} us ` +
        `(Redis busy ${((100 * redisCpu) / seconds).toFixed(0)}% of the run, workers ${((100 * workerCpu) / seconds / WORKERS).toFixed(0)}% each)`,
    );
    const rss = children.map((c) => Math.round(c.peakRssKiB() / 1024));
    console.log(`worker peak RSS: ${rss.join(', ')} MiB`);
    return HOSTS / seconds;
  } catch (err) {
    for (const c of children) console.error(c.output().slice(-2_000));
    throw err;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await queue.close();
    await ns.drop();
  }
}

export async function run(): Promise<void> {
  const empty = await emptyJobRate();
  const handover = await handoverRate();
  const ratio = handover / empty;
  console.log(`handover rate / empty-job rate = ${ratio.toFixed(3)}`);
  console.log(`${ratio >= 0.25 ? 'PASS' : 'MISS'} handover rate >= 1/4 of the empty-job rate (${Math.round(handover)}/s vs ${Math.round(empty)}/s)`);
  console.log(`${handover >= 1_000 ? 'PASS' : 'MISS'} handover rate >= 1,000/s`);
}
