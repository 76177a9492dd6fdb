/**
 * `npm run bench -- handover-core`: what a handover costs in CPU without BullMQ, in this one process
 * (the worker's HandoverRunner on the simulated host, zero latency, 100 at once as one worker runs
 * them) and in Redis. Steadier than the `handover` rates: no queue, no second process competing for
 * the cores, so an A/B of the handover path shows in a few percent.
 */
import { performance } from 'node:perf_hooks';
import { latencyModel, RedisSimulatedHostStore, SimulatedHostDriver } from '@luo-fleet/simulated-host';
import { coalesceWrites, connectRedis, FleetKeys } from '@luo-fleet/redis';
import { HandoverRunner } from '../../apps/worker/src/handover/handover-runner';
import { BENCH_REDIS_URL, benchNamespace, redisCpuSeconds } from './bench-redis';
import { eligibleSimulatedHosts } from './bench-fleet';
import type IORedis from 'ioredis';

export const name = 'handover-core';

const HOSTS = Number(process.env.BENCH_CORE_HOSTS ?? 5_000);
const CONCURRENCY = 100;
const ROUNDS = Number(process.env.BENCH_CORE_ROUNDS ?? 3);

export async function run(): Promise<void> {
  const results: { workerUs: number; redisUs: number; perSecond: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) results.push(await oneRound(round));
  const best = (f: (r: (typeof results)[number]) => number) => Math.min(...results.map(f));
  console.log(
    `best of ${ROUNDS}: worker ${best((r) => r.workerUs).toFixed(0)} us, Redis ${best((r) => r.redisUs).toFixed(0)} us, ` +
      `total ${best((r) => r.workerUs + r.redisUs).toFixed(0)} us per handover`,
  );
}

async function oneRound(round: number): Promise<{ workerUs: number; redisUs: number; perSecond: number }> {
  const ns = benchNamespace('handover-core');
  const keys = new FleetKeys(ns.prefix);
  const redis = coalesceWrites(connectRedis({ url: BENCH_REDIS_URL, prefix: ns.prefix }));
  try {
    const store = new RedisSimulatedHostStore(ns.redis, ns.prefix);
    const hosts = Array.from({ length: HOSTS }, (_, j) => ({ hostId: `sim-${String(j).padStart(5, '0')}`, rolloutId: `core${round}` }));
    const plans = await eligibleSimulatedHosts(store, hosts);
    const workerStore = new RedisSimulatedHostStore(redis, ns.prefix);
    const latency = latencyModel({ scale: 0 });
    const runner = new HandoverRunner(redis, keys, (job) => new SimulatedHostDriver(job.plan.hostId, workerStore, { latency }), {
      leaseTtlMs: 30_000,
      machine: { bootPollMs: 1, sameBootGraceMs: 0 },
    });
    const cpu0 = process.cpuUsage();
    const redis0 = await redisCpuSeconds(ns.redis);
    const net0 = await redisNetBytes(ns.redis);
    const t0 = performance.now();
    let next = 0;
    let updated = 0;
    const lane = async () => {
      while (next < plans.length) {
        const plan = plans[next++];
        const { outcome } = await runner.run({ plan, driver: { kind: 'simulated' } });
        if (outcome.outcome === 'updated') updated++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const redisUs = ((await redisCpuSeconds(ns.redis)) - redis0) * 1e6 / HOSTS;
    const workerUs = (cpu.user + cpu.system) / HOSTS;
    const net1 = await redisNetBytes(ns.redis);
    console.log(
      `round ${round + 1}: ${HOSTS} handovers (${updated} updated) in ${seconds.toFixed(2)} s = ${(HOSTS / seconds).toFixed(0)}/s; ` +
        `CPU per handover: this process ${workerUs.toFixed(0)} us, Redis ${redisUs.toFixed(0)} us; ` +
        `bytes to Redis ${((net1.input - net0.input) / HOSTS).toFixed(0)}, from Redis ${((net1.output - net0.output) / HOSTS).toFixed(0)}`,
    );
    if (updated !== HOSTS) throw new Error(`only ${updated} of ${HOSTS} hosts updated`);
    return { workerUs, redisUs, perSecond: HOSTS / seconds };
  } finally {
    await redis.quit().catch(() => undefined);
    await ns.drop();
  }
}

/** Bytes Redis has read from and written to clients so far (INFO stats). */
async function redisNetBytes(redis: IORedis): Promise<{ input: number; output: number }> {
  const info = await redis.info('stats');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
  return { input: field('total_net_input_bytes'), output: field('total_net_output_bytes') };
}
