import { describe, expect, it } from 'vitest';
import { describeRedis, hashTagOf, isRedisCluster, connectRedis, parseClusterNodes } from './redis-connection';
import { envProblems, redisEnvSchema, redisSettingsOf } from './redis-env';
import { FleetKeys } from './keys';

describe('Redis connection settings', () => {
  it('parses REDIS_CLUSTER_NODES (IPv6 in brackets) and rejects what is not host:port', () => {
    expect(parseClusterNodes(' 127.0.0.1:7000, redis-b:7001,[::1]:7002 ')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    for (const bad of ['', 'redis-a', 'redis-a:0', 'redis-a:70000', 'a:1:2', 'redis://a:1']) {
      expect(() => parseClusterNodes(bad), bad).toThrow(/^REDIS_CLUSTER_NODES: /);
    }
  });

  it('is cluster mode only when REDIS_CLUSTER_NODES is set and not empty', () => {
    const settingsOf = (env: Record<string, string>) => redisSettingsOf(redisEnvSchema.parse(env));
    expect(settingsOf({ REDIS_URL: 'redis://r:6380' })).toEqual({ url: 'redis://r:6380', prefix: 'luo' });
    expect(settingsOf({ REDIS_CLUSTER_NODES: '  ' }).clusterNodes).toBeUndefined();
    const s = settingsOf({ REDIS_CLUSTER_NODES: 'a:1,b:2', LUO_FLEET_PREFIX: 'p' });
    expect(s.clusterNodes).toEqual([{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
    expect(describeRedis(s)).toBe('Redis Cluster (a:1,b:2)');
    expect(describeRedis({ url: 'redis://u:secret@h:1', prefix: 'p' })).toBe('Redis at redis://***@h:1');
  });

  it('names every wrong variable on one line', () => {
    const parsed = redisEnvSchema.safeParse({ REDIS_URL: 'localhost:6379', REDIS_CLUSTER_NODES: 'a', LUO_FLEET_PREFIX: 'no spaces' });
    expect(parsed.success).toBe(false);
    expect(envProblems(parsed.error!)).toBe(
      'REDIS_URL: must start with redis:// or rediss://; REDIS_CLUSTER_NODES: "a" is not host:port; LUO_FLEET_PREFIX: must be 1-64 of A-Z a-z 0-9 _ . - { }',
    );
  });

  it('builds a Cluster with BullMQ-compatible node options, or an IORedis', () => {
    const cluster = connectRedis({ url: 'redis://:pw@x:1', prefix: 'p', clusterNodes: [{ host: '127.0.0.1', port: 1 }] }, { lazyConnect: true, connectTimeout: 1234 });
    const single = connectRedis({ url: 'redis://127.0.0.1:1', prefix: 'p' }, { lazyConnect: true });
    try {
      expect(isRedisCluster(cluster)).toBe(true);
      expect(isRedisCluster(single)).toBe(false);
      if (!isRedisCluster(cluster)) throw new Error('unreachable');
      expect(cluster.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null, connectTimeout: 1234, password: 'pw' });
      expect(cluster.options.lazyConnect).toBe(true);
      expect(cluster.options.redisOptions).not.toHaveProperty('retryStrategy');
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });

  it('hashes keys of one rollout, and each BullMQ key, by one tag', () => {
    const k = new FleetKeys('luo');
    expect(new Set([k.journal('r1', 'h'), k.admission('r1'), k.stats('r1'), k.hostStateSet('r1', 'queued')].map(hashTagOf))).toEqual(new Set(['r:r1']));
    expect(hashTagOf(`${k.bullPrefix()}:handover:wait`)).toBe('luo');
    expect(hashTagOf(k.hostLease('h1'))).toBe('h:h1');
    expect(hashTagOf('luo:rollouts')).toBe('luo:rollouts');
    expect(hashTagOf('a{}b{c}')).toBe('a{}b{c}');
  });
});
