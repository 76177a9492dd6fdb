import type { RedisClient } from '@luo-fleet/queue';
import type { FleetKeys } from '@luo-fleet/queue';

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

function eventOf(id: string, flat: string[]): RolloutEvent {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i], flat[i + 1]);
  const event: RolloutEvent = { id, host: fields.get('host'), handover: fields.get('handover') };
  const text = fields.get('entry');
  if (text === undefined) return { ...event, ...olderEventFields(fields) };
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { ...event, entry: text };
  }
  // The names this API has always used: a step's duration is `ms`, the phase of an outcome or a rollback is `step`.
  const { durationMs, phase, ...rest } = entry;
  return { ...event, ...rest, ...(durationMs === undefined ? {} : { ms: durationMs as number }), ...(phase === undefined ? {} : { step: phase as string }) };
}

/** Events written before entries were stored whole: one stream field per event field. */
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
  const rows = await redis.xrevrange(keys.events(rolloutId), '+', '-', 'COUNT', limit);
  return rows.map(([id, fields]) => eventOf(id, fields));
}
