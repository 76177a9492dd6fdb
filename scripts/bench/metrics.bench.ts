/**
 * Scrape latency of the metrics app over a fleet with history: 100,000 handovers' counters in 20
 * finished and 2 active rollouts (5,000 hosts each, 50 in flight), then 100 scrapes of /metrics.
 * Target: p99 < 50 ms (finished rollouts are summed once and cached; active ones are re-read).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HANDOVER_PHASES } from '@luo-fleet/handover';
import { connectRedis, FleetKeys } from '@luo-fleet/redis';
import { blackoutStat, outcomeStat, phaseDurationStat, validationStat, type StatIncrement } from '@luo-fleet/telemetry';
import { createMetricsApp } from '../../apps/metrics/src/metrics-app';

export const name = 'metrics';

const HANDOVERS = 100_000;
const FINISHED = 20;
const ACTIVE = 2;
const ACTIVE_HOSTS = 5_000;
const IN_FLIGHT = 50;
const SCRAPES = 100;
const OUTCOMES = ['updated', 'updated', 'updated', 'updated', 'updated', 'updated', 'rolled_back', 'failed', 'skipped', 'cancelled'];
const REASONS = ['IS_VIRTFN', 'IS_PHYSFN', 'NO_IOMMU_GROUP', 'GROUP_NOT_SINGLETON', 'TOPOLOGY_DRIFT'];

/** Counters of one handover, in the field format of libs/telemetry fleet-stats. */
function handoverStats(i: number): StatIncrement[] {
  const outcome = OUTCOMES[i % OUTCOMES.length];
  const out: StatIncrement[] = [...outcomeStat(outcome), ...validationStat('precheck', 'preservable', 'none', 4)];
  out.push(...validationStat('precheck', 'rejected', REASONS[i % REASONS.length], 1));
  if (outcome === 'skipped' || outcome === 'cancelled') return out;
  for (const phase of HANDOVER_PHASES) out.push(...phaseDurationStat(phase, ((i * 7919) % 5000) / 1000));
  if (outcome === 'updated') out.push(...blackoutStat(0.2 + ((i * 104729) % 1500) / 1000));
  return out;
}

export async function run(): Promise<void> {
  const prefix = `luo-bench-${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = connectRedis({ url: redisUrl, prefix });
  const keys = new FleetKeys(prefix);
  const rollouts = [...Array(FINISHED + ACTIVE)].map((_, i) => (i < FINISHED ? `done-${i}` : `live-${i}`));

  const t0 = performance.now();
  const sums = rollouts.map(() => new Map<string, number>());
  for (let i = 0; i < HANDOVERS; i++) {
    const sum = sums[i % rollouts.length];
    for (const [field, by] of handoverStats(i)) sum.set(field, (sum.get(field) ?? 0) + by);
  }
  const write = redis.pipeline();
  rollouts.forEach((id, r) => {
    for (const [field, by] of sums[r]) write.hincrby(keys.stats(id), field, by);
    write.sadd(keys.rolloutIndex(), id);
  });
  for (const id of rollouts.slice(FINISHED)) {
    write.sadd(keys.activeRollouts(), id);
    write.set(keys.rollout(id), JSON.stringify({ id, limits: { maxConcurrent: IN_FLIGHT, maxFailures: 100, batches: [] } }));
    const states: Record<string, string> = {};
    for (let h = 0; h < ACTIVE_HOSTS; h++) {
      const state = h < IN_FLIGHT ? HANDOVER_PHASES[h % HANDOVER_PHASES.length] : h < ACTIVE_HOSTS / 2 ? 'updated' : 'pending';
      states[`host-${h}`] = state;
      if (h < IN_FLIGHT) write.rpush(keys.journal(id, `host-${h}`), JSON.stringify({ type: 'step_start', step: state, at: Date.now() - h * 1000 }));
    }
    write.hset(keys.hostStates(id), states);
    const counts = new Map<string, number>();
    for (const s of Object.values(states)) counts.set(s, (counts.get(s) ?? 0) + 1);
    write.hset(keys.stateCounts(id), Object.fromEntries(counts));
  }
  await write.exec();
  console.log(`recorded ${HANDOVERS} handovers' counters in ${FINISHED} finished + ${ACTIVE} active rollouts in ${ms(performance.now() - t0)}`);

  const app = await createMetricsApp({ redis: { url: redisUrl, prefix }, host: '127.0.0.1', port: 0 }, ['error']);
  try {
    const first = performance.now();
    const body = await (await fetch(`${app.url}/metrics`)).text();
    console.log(`first scrape (reads every rollout): ${ms(performance.now() - first)}, ${body.length} bytes`);
    if (!body.includes(`luo_fleet_handovers_total{outcome="updated"} ${HANDOVERS * 0.6}`)) throw new Error('scrape does not show the recorded handovers');
    const times: number[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      const t = performance.now();
      await (await fetch(`${app.url}/metrics`)).text();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(SCRAPES * 0.5)];
    const p99 = times[Math.ceil(SCRAPES * 0.99) - 1];
    console.log(`${SCRAPES} scrapes: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(times[times.length - 1])}`);
    console.log(`${p99 < 50 ? 'PASS' : 'MISS'} scrape p99 < 50 ms`);
  } finally {
    await app.close();
    await deleteByPattern(redis, `${prefix}:*`);
    await deleteByPattern(redis, `{${prefix}}:*`);
    await redis.quit();
  }
}

function ms(v: number): string {
  return `${v.toFixed(1)} ms`;
}

async function deleteByPattern(redis: ReturnType<typeof connectRedis>, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
}
