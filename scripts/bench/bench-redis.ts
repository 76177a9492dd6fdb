/** A benchmark's private key namespace on the local Redis, deleted at the end. */
import { randomBytes } from 'node:crypto';
import type IORedis from 'ioredis';
import { connectRedis, unlinkMatching } from '@luo-fleet/queue';

export const BENCH_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchNamespace {
  prefix: string;
  redis: IORedis;
  drop(): Promise<void>;
}

export function benchNamespace(label: string): BenchNamespace {
  const prefix = `luo-bench-${label}-${randomBytes(4).toString('hex')}`;
  const redis = connectRedis({ url: BENCH_REDIS_URL, prefix });
  return {
    prefix,
    redis,
    async drop() {
      // BullMQ's keys are `{prefix}:...`, ours `prefix:...`.
      await unlinkMatching(redis, [`${prefix}:*`, `{${prefix}}:*`]);
      await redis.quit();
    },
  };
}


export function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

/** Redis server CPU seconds (user + system) so far, from INFO cpu. */
export async function redisCpuSeconds(redis: IORedis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}
