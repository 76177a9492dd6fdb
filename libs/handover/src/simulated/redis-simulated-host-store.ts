import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { SimulatedHostState } from './simulated-host-state';
import {
  parseHostRecord,
  SimulatedHostNotFoundError,
  SimulatedHostRecordError,
  type SimulatedHostStore,
} from './simulated-host-store';

/*
 * Compare-and-set on the record's version. WATCH/MULTI would need a connection per writer (WATCH is
 * per connection, and a shared one is what workers have); a script is atomic on any connection.
 */
const SET_IF_VERSION = `
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
local ok, rec = pcall(cjson.decode, cur)
if not ok or type(rec) ~= 'table' then return -2 end
if tostring(rec['version']) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

const SET_IF_VERSION_SHA = createHash('sha1').update(SET_IF_VERSION).digest('hex');

const MAX_ATTEMPTS = 200;

/** One JSON value per host at `${prefix}:sim:host:{hostId}` (the same key as FleetKeys.simulatedHost). */
export class RedisSimulatedHostStore implements SimulatedHostStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  keyOf(hostId: string): string {
    return `${this.prefix}:sim:host:{${hostId}}`;
  }

  async load(hostId: string): Promise<SimulatedHostState | null> {
    const key = this.keyOf(hostId);
    const text = await this.redis.get(key);
    return text === null ? null : parseHostRecord(`redis key ${key}`, text);
  }

  async save(state: SimulatedHostState): Promise<void> {
    await this.redis.set(this.keyOf(state.hostId), JSON.stringify(state));
  }

  async create(state: SimulatedHostState): Promise<SimulatedHostState> {
    await this.redis.set(this.keyOf(state.hostId), JSON.stringify(state), 'NX');
    return (await this.load(state.hostId))!;
  }

  async update(hostId: string, fn: (state: SimulatedHostState) => SimulatedHostState): Promise<SimulatedHostState> {
    const key = this.keyOf(hostId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.load(hostId);
      if (current === null) throw new SimulatedHostNotFoundError(hostId);
      const expected = current.version;
      const next = fn(current);
      next.version = expected + 1;
      const result = Number(await this.setIfVersion(key, String(expected), JSON.stringify(next)));
      if (result === 1) return next;
      if (result === -1) throw new SimulatedHostNotFoundError(hostId);
      if (result === -2) throw new SimulatedHostRecordError(`redis key ${key}`, 'not a JSON object');
      // Lost the race: back off a little more each time so two busy writers stop colliding.
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.min(attempt, 20)));
    }
    throw new Error(`simulated host ${hostId}: gave up after ${MAX_ATTEMPTS} conflicting updates of ${key}`);
  }

  /** By SHA; the script text goes over the wire only when Redis lacks it (first use, restart, SCRIPT FLUSH). */
  private async setIfVersion(key: string, expected: string, next: string): Promise<unknown> {
    try {
      return await this.redis.evalsha(SET_IF_VERSION_SHA, 1, key, expected, next);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(SET_IF_VERSION, 1, key, expected, next);
    }
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    const head = `${this.prefix}:sim:host:{`;
    // Each host has its own hash tag: on a Redis Cluster they are spread over every master, so each is scanned.
    for (const node of await this.keyspaceNodes()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${escapeGlob(head)}*}`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) if (k.startsWith(head) && k.endsWith('}')) ids.push(k.slice(head.length, -1));
      } while (cursor !== '0');
    }
    return [...new Set(ids)].sort();
  }

  private async keyspaceNodes(): Promise<Redis[]> {
    if (!this.redis.isCluster) return [this.redis as Redis];
    const cluster = this.redis as Cluster;
    if (cluster.nodes('master').length === 0) await cluster.ping();
    return cluster.nodes('master');
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
