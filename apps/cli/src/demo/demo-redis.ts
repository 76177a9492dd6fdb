import {
  answersPing,
  connectRedis,
  INSTALL_REDIS_SERVER,
  parseClusterNodes,
  RedisServerMissingError,
  startPrivateRedisServer,
  unlinkMatching,
  type RedisNodeAddress,
} from '@luo-fleet/redis';
import { CliInputError } from '../input-error';
import { DemoInfrastructureError, type DemoProcesses } from './demo-processes';

/** The Redis the demo runs against, and what it has to undo there at the end. */
export interface DemoRedis {
  url: string;
  prefix: string;
  /** One line for the user: which Redis and why. */
  description: string;
  /** A shared Redis: the demo's keys (all under its fresh prefix) are deleted at the end. */
  sharedWithFreshPrefix: boolean;
  /** Set for a private redis-server the demo started (a child of `processes`). */
  privateServer?: string;
  /** REDIS_CLUSTER_NODES: a Redis Cluster (the children inherit the variable). */
  clusterNodes?: RedisNodeAddress[];
}

const LOCAL_HOST = '127.0.0.1';
const LOCAL_PORT = 6379;
export const PRIVATE_REDIS = 'redis-server';

/**
 * REDIS_CLUSTER_NODES if set (a Redis Cluster); else REDIS_URL if set; else a Redis already answering on 127.0.0.1:6379 (under a fresh key prefix, so
 * nothing of the user's is touched); else a private redis-server on a free port, without
 * persistence, in the demo's temp dir; else no demo (exit 2 with how to get Redis).
 */
export async function chooseDemoRedis(processes: DemoProcesses, tmpDir: string): Promise<DemoRedis> {
  const prefix = process.env.LUO_FLEET_PREFIX ?? `luo-demo-${Date.now()}`;
  const fresh = process.env.LUO_FLEET_PREFIX === undefined;
  const fromEnv = process.env.REDIS_URL;
  const cluster = process.env.REDIS_CLUSTER_NODES?.trim();
  if (cluster) {
    let clusterNodes: RedisNodeAddress[];
    try {
      clusterNodes = parseClusterNodes(cluster);
    } catch (err) {
      throw new CliInputError((err as Error).message);
    }
    return {
      url: fromEnv ?? `redis://${LOCAL_HOST}:${LOCAL_PORT}`,
      clusterNodes,
      prefix,
      sharedWithFreshPrefix: fresh,
      description: `the Redis Cluster from REDIS_CLUSTER_NODES (${cluster}), key prefix ${prefix}`,
    };
  }
  if (fromEnv) {
    return { url: fromEnv, prefix, sharedWithFreshPrefix: fresh, description: `Redis from REDIS_URL, key prefix ${prefix}` };
  }
  if (await answersPing(LOCAL_HOST, LOCAL_PORT)) {
    return {
      url: `redis://${LOCAL_HOST}:${LOCAL_PORT}`,
      prefix,
      sharedWithFreshPrefix: fresh,
      description: `the Redis answering on ${LOCAL_HOST}:${LOCAL_PORT}, under the fresh key prefix ${prefix} (deleted at the end)`,
    };
  }
  const server = await startPrivateRedisServer(tmpDir, (binary, args) => processes.start(PRIVATE_REDIS, binary, args, {})).catch((err: Error) => {
    if (err instanceof RedisServerMissingError) {
      throw new CliInputError(`no Redis: set REDIS_URL, start one on ${LOCAL_HOST}:${LOCAL_PORT} (docker run -d -p 6379:6379 redis:7), or install redis-server (${INSTALL_REDIS_SERVER})`);
    }
    throw new DemoInfrastructureError(err.message);
  });
  return {
    url: server.url,
    prefix,
    sharedWithFreshPrefix: false,
    privateServer: PRIVATE_REDIS,
    description: `a private redis-server on ${LOCAL_HOST}:${server.port} (no persistence, stopped at the end)`,
  };
}

/** Removes every key under the demo's prefix (ours `prefix:...`, BullMQ's `{prefix}:...`). */
export async function deleteDemoKeys(redis: DemoRedis): Promise<number> {
  const client = connectRedis(
    { url: redis.url, prefix: redis.prefix, clusterNodes: redis.clusterNodes },
    { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null },
  );
  try {
    await client.connect();
    // On a cluster: every master scanned, each key unlinked in its own slot.
    return await unlinkMatching(client, [`${redis.prefix}:*`, `{${redis.prefix}}:*`]);
  } finally {
    client.disconnect();
  }
}
