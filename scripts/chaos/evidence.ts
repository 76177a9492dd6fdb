import type IORedis from 'ioredis';
import { parseHostRecord, type SimulatedHostState } from '@luo-fleet/simulated-host';
import { type JournalEntry } from '@luo-fleet/handover';
import { journalEntriesOf } from '@luo-fleet/store';
import { type FleetKeys } from '@luo-fleet/redis';
import type { FleetHost } from './chaos-fleet';

const CHUNK = 500;

/** Every host's journal and simulated record, read in pipelined chunks. */
export async function readHosts(
  redis: IORedis,
  keys: FleetKeys,
  rolloutId: string,
  fleet: FleetHost[],
): Promise<{ journals: Map<string, JournalEntry[]>; records: Map<string, SimulatedHostState | null> }> {
  const journals = new Map<string, JournalEntry[]>();
  const records = new Map<string, SimulatedHostState | null>();
  for (let i = 0; i < fleet.length; i += CHUNK) {
    const chunk = fleet.slice(i, i + CHUNK);
    const p = redis.pipeline();
    for (const h of chunk) {
      p.lrange(keys.journal(rolloutId, h.id), 0, -1);
      // The host's record; its topology is a field of its own (RedisSimulatedHostStore).
      p.hget(keys.simulatedHost(h.id), 'state');
    }
    const replies = (await p.exec()) ?? [];
    chunk.forEach((h, j) => {
      const [jerr, raw] = replies[2 * j] as [Error | null, string[]];
      const [rerr, text] = replies[2 * j + 1] as [Error | null, string | null];
      if (jerr || rerr) throw jerr ?? rerr;
      journals.set(h.id, journalEntriesOf(raw));
      records.set(h.id, text === null ? null : parseHostRecord(h.id, text));
    });
  }
  return { journals, records };
}

/** luo_fleet_handovers_total by outcome (summed over any other label) from the exporter. */
export async function scrapeHandovers(metricsUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${metricsUrl}/metrics: HTTP ${res.status}`);
  const byOutcome: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^luo_fleet_handovers_total\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    const outcome = /(?:^|,)outcome="([^"]*)"/.exec(m[1])?.[1];
    if (outcome !== undefined) byOutcome[outcome] = (byOutcome[outcome] ?? 0) + Number(m[2]);
  }
  return byOutcome;
}
