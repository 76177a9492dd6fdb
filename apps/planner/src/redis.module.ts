import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { coalesceWrites, connectRedis, describeRedis, type RedisClient, type RedisSettings } from '@luo-fleet/redis';
import type { PlannerSettings } from './planner-settings';

export const PLANNER_SETTINGS = Symbol('PLANNER_SETTINGS');
export const PLANNER_REDIS = Symbol('PLANNER_REDIS');

/** Redis did not answer at start; the message is one line. */
export class RedisUnavailableError extends Error {
  constructor(settings: RedisSettings, problem: string) {
    super(`${describeRedis(settings)} is unreachable: ${problem}`);
    this.name = 'RedisUnavailableError';
  }
}

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A connection for request handling: a request fails fast (and the client gets an error) rather
 * than waiting forever while Redis is away, unlike the workers' connections.
 */
export async function connectPlannerRedis(settings: RedisSettings): Promise<RedisClient> {
  // Coalesced: a rollout's creation sends a command per simulated host, a thousand at a time.
  const redis = coalesceWrites(connectRedis(settings, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS }));
  let started = false;
  // Without a listener ioredis prints every failed reconnect; log each distinct problem once instead.
  const logger = new Logger('Redis');
  let last = '';
  redis.on('error', (err: Error) => {
    if (started && err.message !== last) logger.warn(`Redis connection: ${err.message}`);
    last = err.message;
  });
  redis.on('ready', () => {
    if (last !== '') logger.log('Redis connection restored');
    last = '';
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    // The error event says why (ECONNREFUSED ...); the rejection often only says the connection closed.
    throw new RedisUnavailableError(settings, last || (err as Error).message || String(err));
  } finally {
    clearTimeout(timer);
  }
  started = true;
  return redis;
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(PLANNER_REDIS) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The planner's settings (read once, before Nest starts) and its one Redis connection, for every module. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(settings: PlannerSettings, redis: RedisClient): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: PLANNER_SETTINGS, useValue: settings },
        { provide: PLANNER_REDIS, useValue: redis },
        RedisCloser,
      ],
      exports: [PLANNER_SETTINGS, PLANNER_REDIS],
    };
  }
}
