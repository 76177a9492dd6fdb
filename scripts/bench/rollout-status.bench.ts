/**
 * `rollout-status`: the cost of a rollout's status (`RolloutStore.get`, what `GET /v1/rollouts/:id`,
 * `rollout status` and every `rollout watch` poll read) for a rollout of 100,000 hosts that allows
 * strategies, mid-way: hosts spread over four strategies and a dozen states, so `hostsByStrategy`
 * has every pair to count. Written through RolloutStore.create and the scripts that move host
 * states (simulated plans, no workers). Reports the wall time per read (p50, p99) and the Redis
 * CPU per read, which every watcher pays on the shared Redis. Target: p99 under 5 ms and Redis CPU
 * under 1 ms per read.
 */
import { performance } from 'node:perf_hooks';
import { FleetKeys } from '@luo-fleet/redis';
import type { HandoverOrder, HostStrategy } from '@luo-fleet/handover';
import type { Rollout } from '@luo-fleet/rollout';
import { RolloutStore, type RolloutHostInput } from '@luo-fleet/store';
import { MOVE_HOSTS_TO_STATE } from '../../libs/store/src/rollout/host-state-move';
import { benchNamespace, percentile, redisCpuSeconds } from './bench-redis';

export const name = 'rollout-status';

const HOSTS = Number(process.env.BENCH_STATUS_HOSTS ?? 100_000);
const READS = 200;
const P99_TARGET_MS = 5;
const REDIS_CPU_TARGET_MS = 1;
/** Strategy of host i: by i mod 20 (10 live-update, 6 live-update-restart, 3 evacuate, 1 skip). */
const STRATEGY_OF: HostStrategy[] = [...Array<HostStrategy>(10).fill('live-update'), ...Array<HostStrategy>(6).fill('live-update-restart'), ...Array<HostStrategy>(3).fill('evacuate'), 'skip'];
/** Where the hosts that run stand mid-way, by i mod 16. */
const STATES = ['updated', 'updated', 'updated', 'updated', 'updated', 'rolled_back', 'failed', 'queued', 'waiting_capacity', 'precheck', 'drain', 'kexec_load', 'freeze', 'await_boot', 'pending', 'pending'];

function hostInput(i: number, rolloutId: string): RolloutHostInput {
  const hostId = `hv-${String(i).padStart(6, '0')}`;
  const strategy = STRATEGY_OF[i % STRATEGY_OF.length];
  if (strategy === 'skip') return { hostId, domain: `rack-${i % 500}`, skip: { reasons: ['VM_NOT_MIGRATABLE'], error: 'no strategy applies' } };
  // Only what the store keeps of a plan: the bench never runs a handover.
  const plan = { hostId, rolloutId, handoverId: `${rolloutId}/${hostId}`, strategy, targetKernel: '6.18.0-luo' };
  return { hostId, domain: `rack-${i % 500}`, job: { plan, driver: { kind: 'simulated' } } as unknown as HandoverOrder };
}

export async function run(): Promise<void> {
  const ns = benchNamespace('status');
  const keys = new FleetKeys(ns.prefix);
  const store = new RolloutStore(ns.redis, keys);
  try {
    const id = 'status-bench';
    const now = Date.now();
    const rollout = {
      id,
      createdAt: now,
      createdBy: 'bench',
      spec: { selector: '', targetKernel: '6.18.0-luo', strategies: ['live-update', 'live-update-restart', 'evacuate'], window: { startAt: now, endAt: now + 3_600_000, cutoffAt: now + 3_000_000 }, canary: { batches: [], requireApproval: false } },
      hostCount: HOSTS,
      limits: { maxConcurrent: 100, maxFailures: 1000, batches: [HOSTS] },
      status: 'running',
      batch: 0,
    } as unknown as Rollout;
    const hosts = Array.from({ length: HOSTS }, (_, i) => hostInput(i, id));
    const t0 = performance.now();
    await store.create(rollout, hosts, []);
    const byState = new Map<string, string[]>();
    hosts.forEach((h, i) => {
      if (!('job' in h)) return;
      const state = STATES[i % STATES.length];
      if (state !== 'pending') byState.set(state, [...(byState.get(state) ?? []), h.hostId]);
    });
    for (const [state, ids] of byState) {
      for (let i = 0; i < ids.length; i += 1_000) {
        await MOVE_HOSTS_TO_STATE.run(ns.redis, [keys.hostStates(id), keys.stateCounts(id), keys.hostStrategies(id), keys.strategyStateCounts(id)], [keys.hostStateSetPrefix(id), state, ...ids.slice(i, i + 1_000)]);
      }
    }
    console.log(`rollout of ${HOSTS.toLocaleString('en-US')} hosts written and moved to ${STATES.length - 1} states in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const first = await store.get(id);
    const counted = Object.values(first?.hostsByStrategy ?? {}).flatMap((s) => Object.values(s)).reduce((a, b) => a + b, 0);
    if (counted !== HOSTS) throw new Error(`hostsByStrategy counts ${counted} hosts, not ${HOSTS}`);
    const times: number[] = [];
    const cpuBefore = await redisCpuSeconds(ns.redis);
    for (let i = 0; i < READS; i++) {
      const t = performance.now();
      await store.get(id);
      times.push(performance.now() - t);
    }
    const cpuMs = (((await redisCpuSeconds(ns.redis)) - cpuBefore) * 1000) / READS;
    times.sort((a, b) => a - b);
    const p99 = percentile(times, 0.99);
    console.log(`status read x${READS}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms ${p99 < P99_TARGET_MS ? 'PASS' : 'MISS'} (target ${P99_TARGET_MS} ms)`);
    console.log(`Redis CPU per status read: ${cpuMs.toFixed(3)} ms ${cpuMs < REDIS_CPU_TARGET_MS ? 'PASS' : 'MISS'} (target ${REDIS_CPU_TARGET_MS} ms)`);
  } finally {
    await ns.drop();
  }
}
