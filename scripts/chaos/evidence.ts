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

/**
 * From the exporter: luo_fleet_handovers_total by outcome and luo_fleet_vm_disruptions_total by
 * kind (each summed over any other label).
 */
export async function scrapeHandovers(metricsUrl: string): Promise<{ byOutcome: Record<string, number>; vmsByKind: Record<string, number> }> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${metricsUrl}/metrics: HTTP ${res.status}`);
  const text = await res.text();
  return { byOutcome: sumByLabel(text, 'luo_fleet_handovers_total', 'outcome'), vmsByKind: sumByLabel(text, 'luo_fleet_vm_disruptions_total', 'kind') };
}

function sumByLabel(exposition: string, metric: string, label: string): Record<string, number> {
  const by: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    const m = new RegExp(`^${metric}\\{([^}]*)\\}\\s+(\\S+)$`).exec(line);
    if (!m) continue;
    const value = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1])?.[1];
    if (value !== undefined) by[value] = (by[value] ?? 0) + Number(m[2]);
  }
  return by;
}
