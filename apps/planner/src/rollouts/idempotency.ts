import { createHash, randomUUID } from 'node:crypto';
import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';

/** A stored answer is kept a day: long enough for any client retry loop. */
const ANSWER_TTL_S = 24 * 3600;
/**
 * A key is reserved before the rollout is created, so two requests racing with one key make one
 * rollout. A planner dying mid-creation leaves the reservation; it lapses after this.
 */
const RESERVATION_TTL_S = 120;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

type IdempotencyRecord =
  | { state: 'pending'; hash: string; owner: string }
  | { state: 'done'; hash: string; status: number; body: unknown };

export type Reservation =
  | { kind: 'reserved'; owner: string }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

/** JSON with object keys sorted, so that key order does not make two equal bodies differ. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonical(body)).digest('hex');
}

// Replaces our own reservation only: a lapsed one taken over by another request is left alone.
const COMPLETE = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if not cur or cjson.decode(cur).owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
`);
const RELEASE = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).owner == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`);

/** `Idempotency-Key` handling for rollout creation: one rollout per key, the same answer on every repeat. */
export class IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  async reserve(key: string, hash: string): Promise<Reservation> {
    const owner = randomUUID();
    const pending: IdempotencyRecord = { state: 'pending', hash, owner };
    const redisKey = this.keys.idempotency(key);
    const set = await this.redis.set(redisKey, JSON.stringify(pending), 'EX', RESERVATION_TTL_S, 'NX');
    if (set === 'OK') return { kind: 'reserved', owner };
    const raw = await this.redis.get(redisKey);
    // Lapsed between the two calls: try once more rather than failing the caller.
    if (raw === null) return this.reserve(key, hash);
    const existing = JSON.parse(raw) as IdempotencyRecord;
    if (existing.hash !== hash) return { kind: 'mismatch' };
    if (existing.state === 'pending') return { kind: 'in-progress' };
    return { kind: 'replay', answer: { status: existing.status, body: existing.body } };
  }

  async complete(key: string, owner: string, hash: string, answer: StoredAnswer): Promise<void> {
    const done: IdempotencyRecord = { state: 'done', hash, status: answer.status, body: answer.body };
    await COMPLETE.run(this.redis, [this.keys.idempotency(key)], [owner, JSON.stringify(done), ANSWER_TTL_S]);
  }

  /** The request failed: the key is free again, as if it had never been sent. */
  async release(key: string, owner: string): Promise<void> {
    await RELEASE.run(this.redis, [this.keys.idempotency(key)], [owner]);
  }
}
