import IORedis, { type RedisOptions } from 'ioredis';

/** Where every luo-fleet process finds Redis, and the namespace its keys live in. */
export interface RedisSettings {
  /** `redis://host:port/db`; REDIS_URL, default redis://127.0.0.1:6379. */
  url: string;
  /** Prefix of every key luo-fleet writes (BullMQ's own and ours); LUO_FLEET_PREFIX, default `luo`. Tests use their own. */
  prefix: string;
}

export function redisSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RedisSettings {
  return {
    url: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: env.LUO_FLEET_PREFIX ?? 'luo',
  };
}

/**
 * A connection as BullMQ's production guide asks for: `maxRetriesPerRequest: null` so workers
 * block and reconnect instead of throwing while Redis is away, and an unbounded reconnect backoff.
 */
export function connectRedis(settings: RedisSettings, extra: RedisOptions = {}): IORedis {
  return new IORedis(settings.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
    ...extra,
  });
}
