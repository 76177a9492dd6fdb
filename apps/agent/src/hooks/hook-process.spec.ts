import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupAlive, startHook, STDOUT_CAP, type HookLaunch } from './hook-process';
import { OUTPUT_FILE_MAX_BYTES } from './output-tail';

const MB = 1024 * 1024;

describe('startHook', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luo-hook-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const launch = (script: string, extra: Partial<HookLaunch> = {}): HookLaunch => ({
    hook: { command: '/bin/bash', args: ['-c', script], timeoutMs: 60_000 },
    stdin: '{}',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    killGraceMs: 200,
    outputDir: dir,
    outputName: 'h',
    ...extra,
  });

  it('survives a hook printing 600 MB on stdout: a bounded tail, no answer, bounded memory and disk', async () => {
    // 600 MB is past the longest string V8 makes (512 MiB): reading it whole cannot even fail politely.
    const rssBefore = process.memoryUsage().rss;
    const run = startHook(launch('yes "line of output" | head -c 600000000; echo last line', { captureStdout: true }));
    const result = await run.result;
    expect(result.ok).toBe(true);
    expect(result.stdout).toBeUndefined();
    expect(result.stdoutBytes).toBeGreaterThan(STDOUT_CAP);
    expect(result.outputTail.length).toBeLessThanOrEqual(20);
    expect(result.outputTail.at(-1)).toBe('last line');
    expect(result.outputTail.join('\n').length).toBeLessThan(64 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MB);
    expect(statSync(join(dir, 'h.stdout')).size).toBeLessThanOrEqual(OUTPUT_FILE_MAX_BYTES);
  }, 60_000);

  it('holds the output file to its bound while the hook is still running', async () => {
    const run = startHook(launch('{ head -c 50000000 /dev/zero; echo; } >&2; echo written; sleep 3'));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(statSync(join(dir, 'h.output')).size).toBeLessThanOrEqual(OUTPUT_FILE_MAX_BYTES);
    const result = await run.result;
    expect(result.outputTail.at(-1)).toBe('written');
  }, 30_000);

  it('reads a small answer whole', async () => {
    const result = await startHook(launch('echo \'{"incoming": []}\'', { captureStdout: true })).result;
    expect(result.stdout).toBe('{"incoming": []}\n');
    expect(result.stdoutBytes).toBe(17);
  });

  it('ends what the hook left running in its group when the hook exits, not only on timeout', async () => {
    const run = startHook(launch('sleep 300 & echo started'));
    const result = await run.result;
    expect(result.ok).toBe(true);
    const deadline = Date.now() + 5_000;
    while (groupAlive(run.pgid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive(run.pgid!)).toBe(false);
  });
});
