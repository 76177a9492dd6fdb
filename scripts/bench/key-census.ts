/**
 * Where a benchmark's Redis memory sits: every key under its prefix, grouped by kind (ids replaced
 * by `*`), counted in full and weighed with MEMORY USAGE on a sample of each kind.
 */
import type IORedis from 'ioredis';

export interface KeyKind {
  kind: string;
  keys: number;
  /** Estimated bytes: mean MEMORY USAGE of the sample times the count. */
  bytes: number;
}

const SAMPLE = 200;

/** The key with its rollout id, host ids and job ids replaced, so keys of one kind group together. */
export function kindOf(key: string, prefix: string, rolloutIds: string[]): string {
  let k = key.startsWith(`{${prefix}}`) ? `{P}${key.slice(prefix.length + 2)}` : key.startsWith(prefix) ? `P${key.slice(prefix.length)}` : key;
  for (const id of rolloutIds) k = k.split(id).join('R');
  k = k.replace(/:(journal|lease|state):[^:]+$/, ':$1:*');
  k = k.replace(/:sim:host:\{[^}]+\}$/, ':sim:host:{*}');
  k = k.replace(/^\{P\}:handover:(?!(?:id|meta|events|wait|active|completed|failed|delayed|paused|prioritized|stalled|stalled-check|marker|pc|limiter)$)[^:]+(:.*)?$/, '{P}:handover:<job>$1');
  k = k.replace(/^\{P\}:rollout:rollout\.[^:]+(:.*)?$/, '{P}:rollout:<job>$1');
  k = k.replace(/:(host|hosts|labels?|label):[^:]+(:[^:]+)?$/, (_m, what: string, rest?: string) => `:${what}:*${rest ? ':*' : ''}`);
  return k;
}

export async function keyCensus(redis: IORedis, prefix: string, rolloutIds: string[]): Promise<KeyKind[]> {
  const groups = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      cursor = next;
      for (const key of found) {
        const kind = kindOf(key, prefix, rolloutIds);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        const sample = groups.get(kind) ?? [];
        // Reservoir-free: the first keys of a kind are as good a sample as any (SCAN order is hash order).
        if (sample.length < SAMPLE) sample.push(key);
        groups.set(kind, sample);
      }
    } while (cursor !== '0');
  }
  const out: KeyKind[] = [];
  for (const [kind, sample] of groups) {
    const p = redis.pipeline();
    for (const key of sample) p.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = ((await p.exec()) ?? []).map(([, v]) => Number(v ?? 0));
    const mean = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
    out.push({ kind, keys: counts.get(kind)!, bytes: Math.round(mean * counts.get(kind)!) });
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}

export function printCensus(title: string, census: KeyKind[], perHosts: number, top = 14): void {
  const total = census.reduce((a, k) => a + k.bytes, 0);
  console.log(`${title}: ${mib(total)} in ${census.reduce((a, k) => a + k.keys, 0)} keys = ${(total / perHosts / 1024).toFixed(2)} KiB per host`);
  for (const k of census.slice(0, top)) {
    console.log(`  ${(k.bytes / perHosts).toFixed(0).padStart(6)} B/host ${mib(k.bytes).padStart(9)} ${String(k.keys).padStart(7)} keys  ${k.kind}`);
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
