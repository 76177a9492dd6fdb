import { z } from 'zod';
import { envProblems, redisEnvSchema, redisSettingsOf, type RedisSettings } from '@luo-fleet/redis';

const MetricsEnv = redisEnvSchema.extend({
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

/** A metrics environment that cannot run; the message is one line naming each wrong variable. */
export class MetricsConfigError extends Error {
  override name = 'MetricsConfigError';
}

export function loadMetricsConfig(env: NodeJS.ProcessEnv): MetricsAppOptions {
  const parsed = MetricsEnv.safeParse(env);
  if (!parsed.success) throw new MetricsConfigError(`configuration: ${envProblems(parsed.error)}`);
  return {
    redis: redisSettingsOf(parsed.data),
    port: parsed.data.METRICS_PORT,
    host: parsed.data.METRICS_HOST,
    redisTimeoutMs: parsed.data.METRICS_REDIS_TIMEOUT_MS,
  };
}
