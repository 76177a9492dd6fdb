/**
 * Child processes of the benchmarks: built apps and bench scripts, spawned from the build named by
 * LUO_FLEET_DIST or else the build this benchmark itself runs from (the shared dist/ or a private
 * one), so a private build never spawns another build's apps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WORKER_NODE_FLAGS } from '@luo-fleet/jobs';

export interface BenchChild {
  readonly proc: ChildProcess;
  readonly output: () => string;
  /** Peak resident set (VmHWM) in KiB, read from /proc while the process lives; 0 once it is gone. */
  peakRssKiB(): number;
  /** User + system CPU seconds used so far (from /proc); 0 once it is gone. */
  cpuSeconds(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** USER_HZ: /proc reports CPU time in these ticks (100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

export function buildRoot(): string {
  return process.env.LUO_FLEET_DIST ?? resolve(__dirname, '../..');
}

/** `relPath` is inside the build, e.g. `apps/worker/src/main.js`. */
export function spawnBuilt(relPath: string, env: Record<string, string>, nodeArgs: string[] = []): BenchChild {
  const proc = spawn(process.execPath, [...nodeArgs, resolve(buildRoot(), relPath)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    // Only the tail matters (errors); a chatty child must not grow the benchmark's memory.
    if (out.length > 200_000) out = out.slice(-50_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return {
    proc,
    output: () => out,
    peakRssKiB: () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : 0;
      } catch {
        return 0;
      }
    },
    cpuSeconds: () => {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat, counted after the parenthesised command name.
        const fields = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      } catch {
        return 0;
      }
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        const hard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(hard);
          done();
        });
        proc.kill(signal);
      }),
  };
}

/** A luo-fleet worker, started as production starts it (WORKER_NODE_FLAGS), plus `nodeArgs`. */
export function spawnWorker(env: Record<string, string>, nodeArgs: string[] = []): BenchChild {
  return spawnBuilt('apps/worker/src/main.js', env, [...WORKER_NODE_FLAGS, ...nodeArgs]);
}

export function workerEnv(redisUrl: string, prefix: string, env: Record<string, string>): Record<string, string> {
  return { REDIS_URL: redisUrl, LUO_FLEET_PREFIX: prefix, ...env };
}

export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
