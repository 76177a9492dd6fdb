import { z } from 'zod';
import { redisSettingsFromEnv, type RedisSettings } from '@luo-fleet/redis';

const MetricsEnv = z.object({
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** 127.0.0.1 by default: exposing the exporter is a deliberate choice (0.0.0.0 in containers). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** A scrape that cannot read Redis within this reports `luo_fleet_redis_up 0`. */
  METRICS_REDIS_TIMEOUT_MS: z.coerce.number().int().min(50).default(3_000),
});

export interface MetricsAppOptions {
  redis: RedisSettings;
  port: number;
  host: string;
  redisTimeoutMs?: number;
}

export function loadMetricsConfig(env: NodeJS.ProcessEnv = process.env): MetricsAppOptions {
  const parsed = MetricsEnv.safeParse(env);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`metrics config: ${String(first.path[0])}: ${first.message}`);
  }
  return {
    redis: redisSettingsFromEnv(env),
    port: parsed.data.METRICS_PORT,
    host: parsed.data.METRICS_HOST,
    redisTimeoutMs: parsed.data.METRICS_REDIS_TIMEOUT_MS,
  };
}
