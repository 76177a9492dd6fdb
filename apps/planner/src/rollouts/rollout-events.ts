import { fieldsOf, type RedisClient } from '@luo-fleet/redis';
import type { FleetKeys } from '@luo-fleet/redis';

/** One entry of a rollout's event stream (a journal entry, see RedisHandoverJournal), typed back. */
export interface RolloutEvent {
  id: string;
  host?: string;
  handover?: string;
  type?: string;
  at?: number;
  step?: string;
  ok?: boolean;
  ms?: number;
  outcome?: string;
  reasons?: string[];
  error?: string;
  stage?: string;
  counts?: unknown;
  [field: string]: unknown;
}

/**
 * The events of one stream entry, oldest first: a journal write's entries (one JSON per line), or
 * one event a field each (the layout of older releases, which a kept stream may still hold). Ids
 * are the stream id and the entry's place in the write.
 */
function eventsOf(id: string, flat: string[]): RolloutEvent[] {
  const fields = fieldsOf(flat);
  const host = fields.get('host');
  const handover = fields.get('handover');
  const text = fields.get('entries');
  if (text === undefined) return [{ id, host, handover, ...olderEventFields(fields) }];
  return text.split('\n').map((line, i) => ({ id: `${id}.${i}`, host, handover, ...entryFields(line) }));
}

/** A journal entry under the API's own field names (a contract apart from the journal's): a step's duration is `ms`, the phase of an outcome or a rollback is `step`. */
function entryFields(line: string): Partial<RolloutEvent> {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { entry: line };
  }
  const { durationMs, phase, ...rest } = entry;
  return { ...rest, ...(durationMs === undefined ? {} : { ms: durationMs as number }), ...(phase === undefined ? {} : { step: phase as string }) };
}

/** An event in the field-per-field layout: one stream field per event field. */
function olderEventFields(fields: Map<string, string>): Partial<RolloutEvent> {
  const event: Partial<RolloutEvent> = {};
  for (const [name, value] of fields) {
    if (name === 'host' || name === 'handover') continue;
    if (name === 'at' || name === 'ms') event[name] = Number(value);
    else if (name === 'ok') event.ok = value === '1';
    else if (name === 'reasons') event.reasons = value === '' ? [] : value.split(',');
    else if (name === 'counts') {
      try {
        event.counts = JSON.parse(value);
      } catch {
        event.counts = value;
      }
    } else event[name] = value;
  }
  return event;
}

/** The newest `limit` events of a rollout, newest first. */
export async function newestEvents(redis: RedisClient, keys: FleetKeys, rolloutId: string, limit: number): Promise<RolloutEvent[]> {
  // A stream entry holds at least one event, so `limit` entries hold enough.
  const rows = await redis.xrevrange(keys.events(rolloutId), '+', '-', 'COUNT', limit);
  return rows.flatMap(([id, fields]) => eventsOf(id, fields).reverse()).slice(0, limit);
}
