/**
 * Handover throughput of the orchestrator itself: 10,000 simulated hosts with zero phase latency,
 * two worker processes at concurrency 100, all jobs enqueued at once. Baseline in the same run:
 * the same number of EMPTY BullMQ jobs through two no-op workers of the same concurrency, run
 * before and after the handovers.
 * Each run first puts WARMUP jobs of its own kind through its fresh workers, not counted: a cold
 * worker spends its first thousands of jobs compiling, which is not what a rollout of a fleet costs
 * once it runs.
 * Targets: handovers/s >= 1/4 of empty jobs/s, and >= 1,000/s.
 */
import { performance } from 'node:perf_hooks';
import { RedisSimulatedHostStore } from '@luo-fleet/simulated-host';
import { type HandoverPlan } from '@luo-fleet/handover';
import { FleetKeys } from '@luo-fleet/redis';
import { HANDOVER_QUEUE, openEmptyJobs, openHandoverJobs, openQueueCounter, WORKER_NODE_FLAGS, type HandoverJobData, type QueueCounter } from '@luo-fleet/jobs';
import { BENCH_REDIS_URL, benchNamespace, redisCpuSeconds, type BenchNamespace } from './bench-redis';
import { spawnBuilt, spawnWorker, until, workerEnv, type BenchChild } from './bench-processes';
import { BATCH, eligibleSimulatedHosts, outcomeCount } from './bench-fleet';

export const name = 'handover';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const CONCURRENCY = 100;
const WORKERS = 2;
const ROLLOUT = 'bench';
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);
const WARMUP_ROLLOUT = 'bench-warmup';
/** The baseline's own queue, in its own namespace. */
const EMPTY_QUEUE = 'empty';
/** Extra node flags for the handover workers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** CPU used from now on by Redis and the given children, per operation once `ops` have run. */
async function cpuMeter(redis: BenchNamespace['redis'], children: BenchChild[]): Promise<(ops: number) => Promise<{ redisUs: number; workersUs: number; redisSeconds: number; workerSeconds: number }>> {
  const redis0 = await redisCpuSeconds(redis);
  const workers0 = children.map((c) => c.cpuSeconds());
  return async (ops) => {
    const redisSeconds = (await redisCpuSeconds(redis)) - redis0;
    const workerSeconds = children.reduce((sum, c, i) => sum + c.cpuSeconds() - workers0[i], 0);
    return { redisUs: (redisSeconds / ops) * 1e6, workersUs: (workerSeconds / ops) * 1e6, redisSeconds, workerSeconds };
  };
}

/** CPU seconds this process (the harness) used since `from`: it shares the machine's cores with what it measures. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

async function inBatches<T>(items: readonly T[], add: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await add(items.slice(i, i + BATCH));
}

async function workersReady(queue: QueueCounter, n: number): Promise<void> {
  await until(`${n} workers on queue ${queue.name}`, async () => (await queue.workers()) >= n, 60_000, 100);
}

/** A run's rate and its CPU (Redis and workers together) per job or handover. */
interface RunFigures {
  perSecond: number;
  cpuUs: number;
}

/** Jobs per second of EMPTY jobs: BullMQ's own ceiling on this machine and Redis. */
async function emptyJobRate(): Promise<RunFigures> {
  const ns = benchNamespace('empty');
  const bullPrefix = `{${ns.prefix}}`;
  const queue = openEmptyJobs({ url: BENCH_REDIS_URL }, bullPrefix, EMPTY_QUEUE);
  const counter = openQueueCounter({ url: BENCH_REDIS_URL }, bullPrefix, EMPTY_QUEUE);
  const completed = async () => (await counter.jobs('completed')).completed;
  const children: BenchChild[] = [];
  try {
    for (let w = 0; w < WORKERS; w++) {
      children.push(
        // With the handover workers' Node flags: the baseline is not a differently tuned process.
        spawnBuilt(
          'scripts/bench/empty-job-worker.js',
          { REDIS_URL: BENCH_REDIS_URL, BENCH_BULL_PREFIX: bullPrefix, BENCH_QUEUE: EMPTY_QUEUE, WORKER_CONCURRENCY: String(CONCURRENCY) },
          [...WORKER_NODE_FLAGS],
        ),
      );
    }
    await workersReady(counter, WORKERS);
    const ids = Array.from({ length: WARMUP + HOSTS }, (_, i) => `e.${i}`);
    // Kept until counted (completed handover jobs are removed at once; they are counted from the stats hash).
    const add = (batch: string[]) => queue.add(batch, { keepCompleted: WARMUP + HOSTS });
    await inBatches(ids.slice(0, WARMUP), add);
    await until('warm-up empty jobs', async () => (await completed()) >= WARMUP, 120_000, 10);
    const cpu = await cpuMeter(ns.redis, children);
    const t0 = performance.now();
    const harness0 = process.cpuUsage();
    await inBatches(ids.slice(WARMUP), add);
    await until('empty jobs', async () => (await completed()) >= WARMUP + HOSTS, 120_000, 10);
    const seconds = (performance.now() - t0) / 1000;
    const used = await cpu(HOSTS);
    console.log(
      `empty jobs: ${HOSTS} in ${seconds.toFixed(2)} s = ${Math.round(HOSTS / seconds)}/s (${WORKERS} workers x concurrency ${CONCURRENCY}); ` +
        `CPU per job: Redis ${used.redisUs.toFixed(0)} us, workers ${used.workersUs.toFixed(0)} us; this process (enqueue, polling) ${cpuSecondsSince(harness0).toFixed(2)} s`,
    );
    return { perSecond: HOSTS / seconds, cpuUs: used.redisUs + used.workersUs };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await Promise.all([queue.close(), counter.close()]);
    await ns.drop();
  }
}

async function handoverRate(): Promise<RunFigures> {
  const ns = benchNamespace('handover');
  const keys = new FleetKeys(ns.prefix);
  const store = new RedisSimulatedHostStore(ns.redis, ns.prefix);
  const handovers = openHandoverJobs({ url: BENCH_REDIS_URL }, keys.bullPrefix());
  const counter = openQueueCounter({ url: BENCH_REDIS_URL }, keys.bullPrefix(), HANDOVER_QUEUE);
  const children: BenchChild[] = [];
  try {
    const t0 = performance.now();
    const hostName = (j: number) => (j < WARMUP ? `warm-${String(j).padStart(5, '0')}` : `sim-${String(j - WARMUP).padStart(5, '0')}`);
    const all = await eligibleSimulatedHosts(
      store,
      Array.from({ length: WARMUP + HOSTS }, (_, j) => ({ hostId: hostName(j), rolloutId: j < WARMUP ? WARMUP_ROLLOUT : ROLLOUT })),
    );
    const warmupPlans = all.slice(0, WARMUP);
    const plans = all.slice(WARMUP);
    console.log(`created ${WARMUP + HOSTS} simulated hosts (${WARMUP} for the warm-up) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    for (let w = 0; w < WORKERS; w++) {
      children.push(
        spawnWorker(workerEnv(BENCH_REDIS_URL, ns.prefix, {
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
    await workersReady(counter, WORKERS);
    const ordersOf = (list: HandoverPlan[]): HandoverJobData[] => list.map((plan) => ({ plan, driver: { kind: 'simulated' } }));
    const enqueue = (batch: HandoverJobData[]) => handovers.enqueue(batch);
    await inBatches(ordersOf(warmupPlans), enqueue);
    await until('warm-up handovers', async () => Number(await ns.redis.hget(keys.stats(WARMUP_ROLLOUT), 'h|updated')) >= WARMUP, 120_000, 10);
    const orders = ordersOf(plans);
    const cpu = await cpuMeter(ns.redis, children);
    const t1 = performance.now();
    const harness0 = process.cpuUsage();
    await inBatches(orders, enqueue);
    const enqueued = performance.now() - t1;
    const harnessEnqueue = cpuSecondsSince(harness0);
    await until('handover outcomes', async () => (await outcomeCount(ns.redis, keys.stats(ROLLOUT))) >= HOSTS, 170_000, 10);
    const seconds = (performance.now() - t1) / 1000;
    const updated = Number(await ns.redis.hget(keys.stats(ROLLOUT), 'h|updated'));
    console.log(
      `handovers: ${HOSTS} in ${seconds.toFixed(2)} s = ${Math.round(HOSTS / seconds)}/s (${updated} updated; enqueue took ${(enqueued / 1000).toFixed(2)} s; ` +
        `this process ${cpuSecondsSince(harness0).toFixed(2)} s CPU, ${harnessEnqueue.toFixed(2)} s of it enqueueing)`,
    );
    const used = await cpu(HOSTS);
    console.log(
      `CPU per handover: Redis ${used.redisUs.toFixed(0)} us, workers ${used.workersUs.toFixed(0)} us ` +
        `(Redis busy ${((100 * used.redisSeconds) / seconds).toFixed(0)}% of the run, workers ${((100 * used.workerSeconds) / seconds / WORKERS).toFixed(0)}% each)`,
    );
    const rss = children.map((c) => Math.round(c.peakRssKiB() / 1024));
    console.log(`worker peak RSS: ${rss.join(', ')} MiB`);
    return { perSecond: HOSTS / seconds, cpuUs: used.redisUs + used.workersUs };
  } catch (err) {
    for (const c of children) console.error(c.output().slice(-2_000));
    throw err;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await Promise.all([handovers.close(), counter.close()]);
    await ns.drop();
  }
}

export async function run(): Promise<void> {
  // The baseline runs before and after the handovers, and the ratio uses their mean: a shared
  // machine's speed drifts within minutes, which one baseline alone would put into the ratio.
  console.log(`(each run's workers first take ${WARMUP} jobs of its kind, not counted)`);
  const before = await emptyJobRate();
  const handover = await handoverRate();
  const after = await emptyJobRate();
  const empty = (before.perSecond + after.perSecond) / 2;
  const ratio = handover.perSecond / empty;
  console.log(
    `handover rate / empty-job rate = ${ratio.toFixed(3)} (empty jobs: ${Math.round(before.perSecond)}/s before, ${Math.round(after.perSecond)}/s after, mean ${Math.round(empty)}/s)`,
  );
  // Steadier than the rates when the machine's speed drifts: what a handover costs, in empty jobs.
  const emptyCpuUs = (before.cpuUs + after.cpuUs) / 2;
  console.log(`CPU (Redis + workers) per handover = ${(handover.cpuUs / emptyCpuUs).toFixed(2)} empty jobs (${handover.cpuUs.toFixed(0)} us vs ${emptyCpuUs.toFixed(0)} us)`);
  console.log(`${ratio >= 0.25 ? 'PASS' : 'MISS'} handover rate >= 1/4 of the empty-job rate (${Math.round(handover.perSecond)}/s vs ${Math.round(empty)}/s)`);
  console.log(`${handover.perSecond >= 1_000 ? 'PASS' : 'MISS'} handover rate >= 1,000/s`);
}
