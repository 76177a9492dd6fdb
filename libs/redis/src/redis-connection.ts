import IORedis, { Cluster, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * What every luo-fleet component talks to: one Redis server, or a Redis Cluster. Both speak the
 * same commands; what differs is that on a cluster a script, transaction or pipeline must keep to
 * one slot (one node for a pipeline) and a SCAN sees one node's keys only. See `scanKeys` and
 * `execGroupedBySlot` for the two places the code base has to care.
 */
export type RedisClient = IORedis | Cluster;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** The Redis every luo-fleet process (and test) uses when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Where every luo-fleet process finds Redis, and the namespace its keys live in. */
export interface RedisSettings {
  /** `redis://host:port/db`; REDIS_URL, default redis://127.0.0.1:6379. Unused in cluster mode but for its credentials. */
  url: string;
  /** Prefix of every key luo-fleet writes (BullMQ's own and ours); LUO_FLEET_PREFIX, default `luo`. Tests use their own. */
  prefix: string;
  /** REDIS_CLUSTER_NODES (`host:port,host:port,...`): when set, a Redis Cluster discovered from these nodes. */
  clusterNodes?: RedisNodeAddress[];
}

/** `host:port,host:port,...` (IPv6 as `[::1]:7000`); throws naming REDIS_CLUSTER_NODES. */
export function parseClusterNodes(text: string): RedisNodeAddress[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('REDIS_CLUSTER_NODES: expected host:port[,host:port...]');
  return parts.map((part) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES: ${JSON.stringify(part)} is not host:port`);
    return { host: m[1] ?? m[2], port };
  });
}

/** For messages: the URL without its password, or the cluster's seed nodes. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.clusterNodes) return `Redis Cluster (${settings.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')})`;
  return `Redis at ${settings.url.replace(/\/\/[^@/]*@/, '//***@')}`;
}

/**
 * A connection as BullMQ's production guide asks for: `maxRetriesPerRequest: null` so workers
 * block and reconnect instead of throwing while Redis is away, and an unbounded reconnect backoff.
 * With `clusterNodes`, an ioredis Cluster with the same per-node options (`redisOptions`, where
 * BullMQ looks for `maxRetriesPerRequest`); node-level reconnects are left to the cluster client
 * (it refreshes the slot map instead), so `retryStrategy` becomes its `clusterRetryStrategy`.
 * Credentials (and TLS with `rediss://`) of REDIS_URL apply to every node. Standalone settings
 * give an IORedis, typed as such.
 */
export function connectRedis(settings: RedisSettings & { clusterNodes?: undefined }, extra?: RedisOptions): IORedis;
export function connectRedis(settings: RedisSettings, extra?: RedisOptions): RedisClient;
export function connectRedis(settings: RedisSettings, extra: RedisOptions = {}): RedisClient {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
    ...extra,
  };
  if (!settings.clusterNodes) return new IORedis(settings.url, options);
  // These belong to the cluster client; the rest applies to each node's connection.
  const { lazyConnect, enableOfflineQueue, enableReadyCheck, retryStrategy, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...perNode, ...credentialsOf(settings.url) },
    clusterRetryStrategy: retryStrategy ?? undefined,
    lazyConnect,
    enableOfflineQueue,
    enableReadyCheck,
  };
  return new Cluster(settings.clusterNodes, clusterOptions);
}

function credentialsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A flat field-value reply (a stream entry's fields, HGETALL from a script) as a map. */
export function fieldsOf(flat: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i], flat[i + 1]);
  return fields;
}

export function isRedisCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/**
 * The connections whose keyspaces together hold every key: the client itself, or each master of
 * a cluster (a SCAN sent to the cluster client would see one node's keys only).
 */
export async function keyspaceNodes(redis: RedisClient): Promise<IORedis[]> {
  if (!isRedisCluster(redis)) return [redis];
  if (redis.nodes('master').length === 0) await redis.ping(); // connects and loads the slot map
  const masters = redis.nodes('master');
  if (masters.length === 0) throw new Error('Redis Cluster: no master node known');
  return masters;
}

/** Every key matching `pattern`, a SCAN batch at a time, over every master of a cluster. */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 1000): AsyncGenerator<string[]> {
  for (const node of await keyspaceNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/**
 * UNLINKs every key matching the patterns; returns how many were removed. On a cluster each key is
 * unlinked on its own (one UNLINK of keys in several slots is refused), on the node that holds it.
 */
export async function unlinkMatching(redis: RedisClient, patterns: readonly string[]): Promise<number> {
  let removed = 0;
  for (const pattern of patterns) {
    for await (const keys of scanKeys(redis, pattern)) {
      if (!isRedisCluster(redis)) {
        removed += await redis.unlink(...keys);
        continue;
      }
      const replies = (await redis.pipeline(keys.map((k) => ['unlink', k])).exec()) ?? [];
      for (const [err, n] of replies) {
        if (err) throw err;
        removed += Number(n);
      }
    }
  }
  return removed;
}

/** The part of a key Redis Cluster hashes: the first non-empty `{...}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/**
 * Runs commands about several keys as pipelines: one pipeline on a single Redis (as before), one
 * per hash slot group on a cluster (ioredis refuses a pipeline whose keys live on several nodes),
 * sent concurrently. `add(pipeline, i)` queues the commands of item `i`, all about `keyOf[i]`'s
 * slot; the replies come back in item order, flattened.
 */
export async function execGroupedBySlot(
  redis: RedisClient,
  keyOf: readonly string[],
  add: (pipeline: ChainableCommander, index: number) => void,
): Promise<Array<[Error | null, unknown]>> {
  if (keyOf.length === 0) return [];
  if (!isRedisCluster(redis)) {
    const pipeline = redis.pipeline();
    keyOf.forEach((_, i) => add(pipeline, i));
    return (await pipeline.exec()) ?? [];
  }
  const groups = new Map<string, number[]>();
  keyOf.forEach((key, i) => {
    const tag = hashTagOf(key);
    const members = groups.get(tag);
    if (members) members.push(i);
    else groups.set(tag, [i]);
  });
  const perItem: Array<Array<[Error | null, unknown]>> = new Array(keyOf.length);
  await Promise.all(
    [...groups.values()].map(async (items) => {
      const pipeline = redis.pipeline();
      const counts = items.map((i) => {
        const before = pipeline.length;
        add(pipeline, i);
        return pipeline.length - before;
      });
      const replies = (await pipeline.exec()) ?? [];
      let at = 0;
      items.forEach((i, j) => {
        perItem[i] = replies.slice(at, at + counts[j]);
        at += counts[j];
      });
    }),
  );
  return perItem.flat();
}
