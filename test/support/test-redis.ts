import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, DEFAULT_REDIS_URL, describeRedis, INSTALL_REDIS_SERVER, RedisServerMissingError, startPrivateRedisServer } from '@luo-fleet/redis';

/** True when a Redis answers PING at `url` (its credentials and TLS included) within a second. */
async function answers(url: string): Promise<boolean> {
  const client = connectRedis({ url, prefix: '' }, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // a refused connection is the answer "no"
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Vitest global setup of the tests that need Redis: they use REDIS_URL (default
 * redis://127.0.0.1:6379). When nothing answers there, a private redis-server (no persistence, a
 * temp dir) serves the run: REDIS_URL points at it for the test files and every process they
 * start, and it is stopped at the end. Without redis-server the run stops at once, saying how to
 * install it.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (await answers(url)) return undefined;
  const missing = `tests: no ${describeRedis({ url, prefix: '' })} (REDIS_URL) answers`;
  const dir = mkdtempSync(join(tmpdir(), 'luo-test-redis-'));
  try {
    const server = await startPrivateRedisServer(dir);
    process.env.REDIS_URL = server.url;
    console.log(`${missing}; a private redis-server at ${server.url} serves this run`);
    return async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (!(err instanceof RedisServerMissingError)) throw err;
    console.error(`${missing} and redis-server is not installed: ${INSTALL_REDIS_SERVER}`);
    process.exit(1);
  }
}
