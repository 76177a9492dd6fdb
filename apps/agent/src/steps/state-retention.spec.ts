import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneStepFiles } from './state-retention';

const DAY = 86_400_000;
const hash = (id: string) => createHash('sha256').update(id).digest('hex');

describe('pruneStepFiles', () => {
  let dir: string;
  let records: string;
  let outputs: string;
  const now = Date.now();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luo-retention-'));
    records = join(dir, 'requests');
    outputs = join(dir, 'hook-output');
    mkdirSync(records);
    mkdirSync(outputs);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A step's record and output, `ageDays` old, its output `outputBytes` long. */
  const step = (id: string, state: 'running' | 'done', ageDays: number, outputBytes = 10) => {
    const at = (now - ageDays * DAY) / 1000;
    const files = [join(records, `${hash(id)}.json`), join(outputs, `${hash(id).slice(0, 32)}.preserve.output`)];
    writeFileSync(files[0], JSON.stringify({ state, requestId: id }));
    writeFileSync(files[1], Buffer.alloc(outputBytes));
    for (const f of files) utimesSync(f, at, at);
    return files;
  };

  it('removes finished steps past the age, keeps running ones, busy ones and the kexec fence', () => {
    const old = step('old', 'done', 20);
    const young = step('young', 'done', 1);
    const running = step('running', 'running', 30);
    const busy = step('busy', 'done', 30);
    writeFileSync(join(records, 'kexec-fence.json'), '{}');
    utimesSync(join(records, 'kexec-fence.json'), 0, 0);
    const removed = pruneStepFiles(records, outputs, { maxAgeMs: 14 * DAY, maxBytes: 1 << 30 }, new Set([hash('busy').slice(0, 32)]), now);
    expect(removed).toBe(2);
    for (const f of old) expect(existsSync(f)).toBe(false);
    for (const f of [...young, ...running, ...busy, join(records, 'kexec-fence.json')]) expect(existsSync(f)).toBe(true);
  });

  it('removes the oldest finished steps until the total fits', () => {
    const oldest = step('a', 'done', 3, 600_000);
    const middle = step('b', 'done', 2, 600_000);
    const newest = step('c', 'done', 1, 600_000);
    pruneStepFiles(records, outputs, { maxAgeMs: 14 * DAY, maxBytes: 1_300_000 }, new Set(), now);
    for (const f of oldest) expect(existsSync(f)).toBe(false);
    for (const f of [...middle, ...newest]) expect(existsSync(f)).toBe(true);
    expect(readdirSync(outputs)).toHaveLength(2);
  });
});
