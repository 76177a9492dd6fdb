import type { RedisClient } from '@luo-fleet/queue';
import type { FleetKeys } from '@luo-fleet/queue';

/** One entry of a rollout's event stream (see redis-handover-journal's streamFields), typed back. */
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
  const event: RolloutEvent = { id };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [name, value] = [flat[i], flat[i + 1]];
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
