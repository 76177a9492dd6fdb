/** Simulated hosts for the benchmarks: through the planner's API, or straight into the store. */
import type IORedis from 'ioredis';
import { buildHandoverPlan, type HandoverPlan } from '@luo-fleet/handover';
import { createSimulatedHost, type SimulatedHostStore } from '@luo-fleet/simulated-host';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { generateHost, type GenerateHostOptions } from '@luo-fleet/topology';
import { eligibleGpuHostTopology } from '../../test/support/eligible-host';
import type { BenchPlanner } from './bench-planner';

export const BATCH = 1_000;
export const TARGET_KERNEL = '6.18.3-luo';

/** Options of the fleet generator, or `eligible` for a two-GPU host every rule accepts. */
export type BenchHostShape = GenerateHostOptions | 'eligible';

export function benchHost(seed: number, index: number, group: string, shape: BenchHostShape = {}) {
  const g = generateHost(seed, index, shape === 'eligible' ? { kind: 'gpu' } : shape);
  return {
    id: `${group}-${String(index).padStart(6, '0')}`,
    labels: { ...g.labels, bench: group },
    driver: { kind: 'simulated' as const },
    topology: shape === 'eligible' ? eligibleGpuHostTopology() : g.topology,
  };
}

/** Registers hosts `from`..`to-1` through the API, BATCH per call; returns the seconds it took. */
export async function registerHosts(planner: BenchPlanner, seed: number, group: string, from: number, to: number, shape: BenchHostShape = {}): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < to; i += BATCH) {
    const hosts = [];
    for (let j = i; j < Math.min(to, i + BATCH); j++) hosts.push(benchHost(seed, j, group, shape));
    const res = await planner.call('POST', '/v1/hosts:batch', { hosts });
    if (res.status !== 200) throw new Error(`hosts:batch answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return (performance.now() - t0) / 1000;
}

export interface CreatedRollout {
  rollout: { id: string };
  plan: { eligible: number; skipped: number; hosts: number };
}

/** A rollout over `bench=<group>` that starts now, one batch (no canary), no failure budget to speak of. */
export async function createBenchRollout(planner: BenchPlanner, group: string, maxConcurrent: number): Promise<CreatedRollout> {
  const res = await planner.call<CreatedRollout>('POST', '/v1/rollouts', {
    selector: `bench=${group}`,
    targetKernel: TARGET_KERNEL,
    maxConcurrent,
    maxFailures: '100%',
    canary: { batches: ['100%'], requireApproval: false },
  });
  if (res.status !== 201) throw new Error(`POST /v1/rollouts answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

const OUTCOME_FIELDS = ['h|updated', 'h|rolled_back', 'h|failed', 'h|skipped', 'h|cancelled'];

/** Hosts of a rollout with an outcome, from its stats hash (the same counters the metrics app sums). */
export async function outcomeCount(redis: IORedis, statsKey: string): Promise<number> {
  const counts = await redis.hmget(statsKey, ...OUTCOME_FIELDS);
  return counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
}

/**
 * Two-GPU hosts every rule accepts, created in the store (BATCH at a time, pipelined on its
 * connection) without the planner, with their handover plans in the same order: what the
 * handover benchmarks feed their workers.
 */
export async function eligibleSimulatedHosts(store: SimulatedHostStore, hosts: readonly { hostId: string; rolloutId: string }[]): Promise<HandoverPlan[]> {
  const topology = eligibleGpuHostTopology();
  const preservationSet = buildPreservationSet(topology, undefined);
  const plans: HandoverPlan[] = [];
  for (let i = 0; i < hosts.length; i += BATCH) {
    const batch = hosts.slice(i, i + BATCH);
    await Promise.all(batch.map(({ hostId }) => createSimulatedHost(store, { hostId, seed: 7, topology, kernelRelease: '6.12.0-lts' })));
    for (const { hostId, rolloutId } of batch) plans.push(buildHandoverPlan({ hostId, rolloutId, targetKernel: TARGET_KERNEL, topology, preservationSet }));
  }
  return plans;
}
