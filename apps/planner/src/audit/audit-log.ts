import { fieldsOf, type RedisClient } from '@luo-fleet/redis';

/** What a mutating call was aimed at, e.g. `{ host: 'hv-001' }` or `{ rollout: 'r-7' }` or `{ hosts: 500 }`. */
export type AuditTarget = Record<string, string | number>;

export interface AuditRecord {
  /** Token name, or null when no valid token was presented. */
  actor: string | null;
  role: string | null;
  method: string;
  path: string;
  target: AuditTarget;
  /** HTTP status the caller received, refusals included. */
  status: number;
  /** ISO time the call was answered. */
  at: string;
}

export interface AuditEntry extends AuditRecord {
  /** Redis stream id: orders entries and is the `before` cursor. */
  id: string;
}

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

export function isAuditCursor(text: string): boolean {
  return STREAM_ID.test(text);
}

/**
 * Append-only log of mutating API calls in a capped Redis stream. The cap is approximate
 * (`MAXLEN ~`) so trimming happens a whole node at a time, which keeps XADD O(1).
 */
export class AuditLog {
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly maxLen = 100_000,
  ) {
    this.key = `${prefix}:audit`;
  }

  async append(record: AuditRecord): Promise<string> {
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      String(this.maxLen),
      '*',
      'actor',
      record.actor ?? '',
      'role',
      record.role ?? '',
      'method',
      record.method,
      'path',
      record.path,
      'target',
      JSON.stringify(record.target),
      'status',
      String(record.status),
      'at',
      record.at,
    );
    return id as string;
  }

  /** Newest first; `before` (a stream id) is exclusive, so passing the last id seen pages on. */
  async list(opts: { limit: number; before?: string }): Promise<AuditEntry[]> {
    const end = opts.before === undefined ? '+' : `(${opts.before}`;
    const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', opts.limit);
    return rows.map(([id, fields]) => toEntry(id, fields));
  }
}

function toEntry(id: string, fields: string[]): AuditEntry {
  const f = fieldsOf(fields);
  let target: AuditTarget = {};
  try {
    target = JSON.parse(f.get('target') ?? '{}') as AuditTarget;
  } catch {
    // An entry written by hand or by an older version: keep the rest of it readable.
  }
  return {
    id,
    actor: f.get('actor') || null,
    role: f.get('role') || null,
    method: f.get('method') ?? '',
    path: f.get('path') ?? '',
    target,
    status: Number(f.get('status') ?? 0),
    at: f.get('at') ?? '',
  };
}
