/** A benchmark's private key namespace on the local Redis, deleted at the end. */
import type IORedis from 'ioredis';
import { redisNamespace, TEST_REDIS_URL, type RedisNamespace } from '../../test/support/redis-namespace';

export const BENCH_REDIS_URL = TEST_REDIS_URL;

export type BenchNamespace = RedisNamespace;

export function benchNamespace(label: string): BenchNamespace {
  return redisNamespace(label, 'bench');
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
