import { fieldsOf, type RedisClient } from '@luo-fleet/redis';
import type { AuthRefusalReason } from '../auth/api-request';

/** Why a request never reached a handler: the auth guard's reasons, or no route at that path. */
export type RefusalReason = AuthRefusalReason | 'no-such-route';

export interface RefusalRecord {
  reason: RefusalReason;
  /** The token's name when it was valid (a role too small); null otherwise. */
  actor: string | null;
  method: string;
  /** Clipped to MAX_PATH characters. */
  path: string;
  status: number;
  /** The client's address as the planner saw it. */
  client: string;
  at: string;
}

export interface RefusalEntry extends RefusalRecord {
  id: string;
  /** Refusals of this planner not written (over the write rate) between the previous entry and this one. */
  suppressed: number;
}

/** Every path is clipped to this: enough for any real route and id, too little to carry a payload. */
export const MAX_PATH = 96;
/**
 * Entries kept. Each field is bounded (path 96, actor 64, client 45 characters, the rest short), so
 * an entry is at most ~400 bytes with its field names and the stream at most ~4 MB, however many
 * refusals come.
 */
export const REFUSALS_KEPT = 10_000;
/** Entries written per second per planner at most (a burst of WRITE_BURST first); the rest are counted only. */
const WRITE_RATE = 20;
const WRITE_BURST = 100;

export function clipPath(path: string, max = MAX_PATH): string {
  return path.length > max ? `${path.slice(0, max)}...` : path;
}

/**
 * Requests refused before any handler ran (no or a wrong token, a role too small, rate-limited, no
 * such route), kept apart from the audit log of what authorized callers did, so that no number of
 * them can push an operator's call out of it. Written at most WRITE_RATE a second; every refusal
 * is counted by reason however many are not written, and the next entry written says how many
 * were left out before it.
 */
export class RefusalLog {
  readonly key: string;
  readonly countsKey: string;
  private tokens = WRITE_BURST;
  private refilledAt: number;
  private suppressed = 0;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = `${prefix}:audit:refused`;
    this.countsKey = `${prefix}:audit:refused:count`;
    this.refilledAt = now();
  }

  async append(record: RefusalRecord): Promise<void> {
    const counted = this.redis.hincrby(this.countsKey, record.reason, 1);
    if (!this.takeToken()) {
      this.suppressed++;
      await counted;
      return;
    }
    const suppressed = this.suppressed;
    this.suppressed = 0;
    await Promise.all([
      counted,
      this.redis.xadd(
        this.key,
        'MAXLEN',
        '~',
        String(REFUSALS_KEPT),
        '*',
        'reason',
        record.reason,
        'actor',
        record.actor ?? '',
        'method',
        record.method.slice(0, 16),
        'path',
        clipPath(record.path),
        'status',
        String(record.status),
        'client',
        record.client.slice(0, 45),
        'at',
        record.at,
        'suppressed',
        String(suppressed),
      ),
    ]);
  }

  /** Newest first; `before` (a stream id) is exclusive. */
  async list(opts: { limit: number; before?: string }): Promise<RefusalEntry[]> {
    const end = opts.before === undefined ? '+' : `(${opts.before}`;
    const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', opts.limit);
    return rows.map(([id, fields]) => {
      const f = fieldsOf(fields);
      return {
        id,
        reason: (f.get('reason') ?? '') as RefusalReason,
        actor: f.get('actor') || null,
        method: f.get('method') ?? '',
        path: f.get('path') ?? '',
        status: Number(f.get('status') ?? 0),
        client: f.get('client') ?? '',
        at: f.get('at') ?? '',
        suppressed: Number(f.get('suppressed') ?? 0),
      };
    });
  }

  /** Every refusal ever counted, by reason (written as an entry or not). */
  async totals(): Promise<Record<string, number>> {
    const flat = await this.redis.hgetall(this.countsKey);
    return Object.fromEntries(Object.entries(flat).map(([reason, n]) => [reason, Number(n)]));
  }

  private takeToken(): boolean {
    const now = this.now();
    this.tokens = Math.min(WRITE_BURST, this.tokens + ((now - this.refilledAt) / 1000) * WRITE_RATE);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
