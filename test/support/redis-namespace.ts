import { randomBytes } from 'node:crypto';
import type IORedis from 'ioredis';
import { connectRedis, DEFAULT_REDIS_URL, unlinkMatching } from '@luo-fleet/redis';

/** The Redis of every test: REDIS_URL, which `npm test` points at a private redis-server when nothing answers there. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

/** A private key namespace on the shared test Redis, removed afterwards. */
export interface RedisNamespace {
  prefix: string;
  redis: IORedis;
  drop(): Promise<void>;
}

/** `kind` names who owns the keys (`test`, `bench`), so a leftover namespace says where it came from. */
export function redisNamespace(label: string, kind = 'test'): RedisNamespace {
  const prefix = `luo-${kind}-${label}-${randomBytes(4).toString('hex')}`;
  const redis = connectRedis({ url: TEST_REDIS_URL, prefix });
  return {
    prefix,
    redis,
    async drop() {
      // BullMQ's keys are `{prefix}:...`, ours `prefix:...`: both contain the prefix.
      await unlinkMatching(redis, [`${prefix}:*`, `{${prefix}}:*`]);
      await redis.quit();
    },
  };
}
