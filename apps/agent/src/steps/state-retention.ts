import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Retention } from '../config/agent-config';

interface StateFile {
  path: string;
  /** The first 32 hex digits of sha256(requestId): a record's file and its hook output files share them. */
  key: string;
  isRecord: boolean;
  bytes: number;
  mtimeMs: number;
}

const RECORD = /^[0-9a-f]{64}\.json$/;

/**
 * Removes finished step records and hook output files older than `maxAgeMs`, then the oldest
 * until what is left weighs at most `maxBytes`. What belongs to a step still running (a `running`
 * record, or a key in `busy`) is never removed, nor is any file not named like a record or an
 * output (the kexec fence lives beside the records). Returns how many files went.
 */
export function pruneStepFiles(recordsDir: string, outputDir: string, retention: Retention, busy: ReadonlySet<string>, now = Date.now()): number {
  const files = [...listDir(recordsDir, true), ...listDir(outputDir, false)].sort((a, b) => a.mtimeMs - b.mtimeMs);
  let total = files.reduce((sum, f) => sum + f.bytes, 0);
  const candidates: StateFile[] = [];
  for (const file of files) {
    if (file.mtimeMs >= now - retention.maxAgeMs && total <= retention.maxBytes) break;
    candidates.push(file);
    total -= file.bytes;
  }
  if (candidates.length === 0) return 0;
  const running = runningKeys(recordsDir, new Set(candidates.map((f) => f.key)));
  let removed = 0;
  for (const file of candidates) {
    if (busy.has(file.key) || running.has(file.key)) continue;
    rmSync(file.path, { force: true });
    removed++;
  }
  return removed;
}

function listDir(dir: string, isRecord: boolean): StateFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: StateFile[] = [];
  for (const name of names) {
    // Records: <sha256>.json (and a crashed write's <sha256>.json.<pid>.<rand>.tmp);
    // outputs: <32 hex>.<step>.<suffix>, or <query>-<hex>.<suffix> for the incoming and vms queries.
    const key = /^[0-9a-f]{32}/.test(name) ? name.slice(0, 32) : /^(?:incoming|vms)-[0-9a-f]+\./.test(name) ? name.split('.')[0] : undefined;
    if (key === undefined) continue;
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) out.push({ path: join(dir, name), key, isRecord: isRecord && RECORD.test(name), bytes: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Keys among `keys` whose record says a step is still running. */
function runningKeys(recordsDir: string, keys: Set<string>): Set<string> {
  const running = new Set<string>();
  for (const name of readdirSafe(recordsDir)) {
    if (!RECORD.test(name) || !keys.has(name.slice(0, 32))) continue;
    try {
      if ((JSON.parse(readFileSync(join(recordsDir, name), 'utf8')) as { state?: string }).state === 'running') running.add(name.slice(0, 32));
    } catch {
      // Unreadable or half-written: not a running record.
    }
  }
  return running;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
