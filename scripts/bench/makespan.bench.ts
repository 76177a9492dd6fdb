/**
 * Makespan of one rollout: 2,000 simulated hosts whose handover takes ~2 s of simulated phase time,
 * maxConcurrent 200, one batch, two workers (concurrency 100 each), created through the planner's
 * HTTP API. Wall time from the create call to the last outcome against the ideal
 * hosts x handover time / concurrency (target: within 10%). Meanwhile 50 clients poll
 * GET /v1/rollouts/:id on the (spawned) planner, each pausing 100 ms between polls; p50/p99 of
 * that. Then the same again with clients that never pause (a stress figure: they keep the planner busy).
 */
import { performance } from 'node:perf_hooks';
import { FleetKeys } from '@luo-fleet/redis';
import { BENCH_REDIS_URL, benchNamespace, percentile } from './bench-redis';
import { spawnWorker, until, workerEnv, type BenchChild } from './bench-processes';
import { startBenchPlanner, withBenchApps, type BenchPlanner } from './bench-planner';
import { createBenchRollout, outcomeCount, registerHosts } from './bench-fleet';

export const name = 'makespan';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 2_000);
const CONCURRENCY = 200;
const WORKERS = 2;
const POLLERS = Number(process.env.BENCH_POLLERS ?? 50);
/**
 * Pause of each status client between two polls. `luo-fleet rollout watch` polls once a second; 100
 * ms is ten times that. BENCH_STRESS=0 skips the second rollout, whose clients never pause.
 */
const POLL_PAUSE_MS = Number(process.env.BENCH_POLL_PAUSE_MS ?? 100);
const STRESS = process.env.BENCH_STRESS !== '0';
const HANDOVER_MS = 2_000;
/**
 * Driver calls one after the other in a happy simulated handover: 6 mutating calls and 4 reads
 * (precheck's identity and topology together, kexec's identity, await_boot's, retrieve's incoming
 * devices and topology together); the boot hides in await_boot's read.
 */
const DRIVER_CALLS = 10;
const SEED = 11;

function startWorkers(prefix: string, latencyMs: number): BenchChild[] {
  return [...Array(WORKERS)].map(() =>
    spawnWorker(workerEnv(BENCH_REDIS_URL, prefix, {
        WORKER_CONCURRENCY: String(CONCURRENCY / WORKERS),
        SIM_FIXED_LATENCY_MS: String(latencyMs),
        BOOT_POLL_MS: '50',
        COORDINATOR_TICK_MS: '50',
      }),
    ),
  );
}

/** One host through a one-host rollout: its handover time (summed phase durations). */
async function calibrate(planner: BenchPlanner, ns: ReturnType<typeof benchNamespace>, keys: FleetKeys, group: string): Promise<number> {
  await registerHosts(planner, SEED, group, 0, 1, 'eligible');
  const { rollout } = await createBenchRollout(planner, group, 1);
  await until('calibration handover', async () => (await outcomeCount(ns.redis, keys.stats(rollout.id))) >= 1, 60_000, 20);
  if (Number(await ns.redis.hget(keys.stats(rollout.id), 'h|updated')) !== 1) throw new Error('calibration host did not end updated');
  return (await meanHandoverSeconds(ns.redis, keys, rollout.id)) * 1000;
}

/**
 * Mean time of an updated host's handover, from the fleet counters (the phases run one after the
 * other, so their summed durations over the updated hosts): journals are compacted once a rollout
 * finishes, the counters stay.
 */
async function meanHandoverSeconds(redis: ReturnType<typeof benchNamespace>['redis'], keys: FleetKeys, rolloutId: string): Promise<number> {
  const stats = await redis.hgetall(keys.stats(rolloutId));
  const phaseSeconds = Object.entries(stats)
    .filter(([field]) => field.startsWith('p|') && field.endsWith('|sum_us'))
    .reduce((sum, [, us]) => sum + Number(us) / 1e6, 0);
  return phaseSeconds / Math.max(1, Number(stats['h|updated'] ?? 0));
}

/**
 * Creates the rollout over `group` through the API while POLLERS clients poll its status, each
 * pausing `pauseMs` between calls; prints and returns the makespan ratio and the status p99.
 */
async function measuredRollout(
  planner: BenchPlanner,
  ns: ReturnType<typeof benchNamespace>,
  keys: FleetKeys,
  group: string,
  handoverMs: number,
  pauseMs: number,
): Promise<{ ratio: number; p99: number }> {
  const latencies: number[] = [];
  let polling = true;
  // Set once the create call answers; the pollers wait for it.
  const current: { id?: string } = {};
  let pollErrors = 0;
  const pollers = [...Array(POLLERS)].map(async () => {
    while (polling) {
      if (!current.id) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const t = performance.now();
      const res = await planner.call('GET', `/v1/rollouts/${current.id}`).catch(() => ({ status: 0 }));
      latencies.push(performance.now() - t);
      if (res.status !== 200) pollErrors++;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  });

  const t0 = performance.now();
  const created = await createBenchRollout(planner, group, CONCURRENCY);
  const createSeconds = (performance.now() - t0) / 1000;
  const rolloutId = (current.id = created.rollout.id);
  // In flight as the admission script counts it, sampled from Redis (independent of the pollers).
  const admitted: number[] = [];
  await until('rollout outcomes', async () => {
    admitted.push(Number(await ns.redis.hget(keys.admission(rolloutId), 'inflight')));
    return (await outcomeCount(ns.redis, keys.stats(rolloutId))) >= created.plan.hosts;
  }, 170_000, 20);
  const wall = (performance.now() - t0) / 1000;
  polling = false;
  await Promise.all(pollers);

  const updated = Number(await ns.redis.hget(keys.stats(rolloutId), 'h|updated'));
  const ideal = (created.plan.eligible * handoverMs) / 1000 / CONCURRENCY;
  const ratio = wall / ideal;
  const pace = pauseMs > 0 ? `each pausing ${pauseMs} ms between polls` : 'polling without pause';
  console.log(`rollout of ${created.plan.hosts} hosts (${created.plan.eligible} eligible, ${updated} updated), ${POLLERS} status clients ${pace}: create call ${createSeconds.toFixed(2)} s`);
  console.log(`makespan ${wall.toFixed(1)} s, ideal ${ideal.toFixed(1)} s (${created.plan.eligible} x ${(handoverMs / 1000).toFixed(2)} s / ${CONCURRENCY}), ratio ${ratio.toFixed(3)}`);
  // Where a gap to the ideal comes from: fewer hosts in flight than allowed, or slower handovers under load.
  const meanSpan = await meanHandoverSeconds(ns.redis, keys, rolloutId);
  const meanAdmitted = admitted.reduce((a, b) => a + b, 0) / Math.max(1, admitted.length);
  console.log(`under load: mean handover ${meanSpan.toFixed(2)} s (phase time, all updated hosts), mean in flight ${meanAdmitted.toFixed(0)} of ${CONCURRENCY}`);
  latencies.sort((a, b) => a - b);
  const p99 = latencies.length > 0 ? percentile(latencies, 0.99) : NaN;
  if (latencies.length > 0) {
    console.log(
      `GET /v1/rollouts/:id by ${POLLERS} concurrent clients: ${latencies.length} calls (${Math.round(latencies.length / wall)}/s), p50 ${percentile(latencies, 0.5).toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms, errors ${pollErrors}`,
    );
  }
  return { ratio, p99 };
}

export async function run(): Promise<void> {
  const ns = benchNamespace('makespan');
  const keys = new FleetKeys(ns.prefix);
  await withBenchApps(ns, async (apps) => {
    const planner = (apps.planner = await startBenchPlanner(BENCH_REDIS_URL, ns.prefix));
    // Measure one handover first; correct the per-call latency once if the sum is off by more than 5%.
    let latencyMs = Math.round(HANDOVER_MS / DRIVER_CALLS);
    apps.workers = startWorkers(ns.prefix, latencyMs);
    let handoverMs = await calibrate(planner, ns, keys, 'calib0');
    console.log(`one handover at ${latencyMs} ms per driver call: ${handoverMs.toFixed(0)} ms`);
    if (Math.abs(handoverMs - HANDOVER_MS) > HANDOVER_MS * 0.05) {
      latencyMs = Math.round((latencyMs * HANDOVER_MS) / handoverMs);
      await Promise.all(apps.workers.map((w) => w.stop()));
      apps.workers = startWorkers(ns.prefix, latencyMs);
      handoverMs = await calibrate(planner, ns, keys, 'calib1');
      console.log(`one handover at ${latencyMs} ms per driver call: ${handoverMs.toFixed(0)} ms`);
    }

    const registerSeconds = await registerHosts(planner, SEED, 'makespan', 0, HOSTS, 'eligible');
    console.log(`registered ${HOSTS} hosts through POST /v1/hosts:batch in ${registerSeconds.toFixed(1)} s`);
    const paced = await measuredRollout(planner, ns, keys, 'makespan', handoverMs, POLL_PAUSE_MS);
    console.log(`${paced.ratio <= 1.1 ? 'PASS' : 'MISS'} makespan within 10% of ideal (ratio ${paced.ratio.toFixed(3)}, clients pausing ${POLL_PAUSE_MS} ms between polls)`);
    if (STRESS) {
      // The same rollout again with clients that never pause: the planner is then busy all the time.
      await registerHosts(planner, SEED, 'stress', HOSTS, 2 * HOSTS, 'eligible');
      const stress = await measuredRollout(planner, ns, keys, 'stress', handoverMs, 0);
      console.log(`stress (clients without pause): makespan ratio ${stress.ratio.toFixed(3)}, status p99 ${stress.p99.toFixed(1)} ms`);
    }
  });
}
