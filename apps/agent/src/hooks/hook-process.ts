import { spawn } from 'node:child_process';
import type { HookCommand } from '../config/agent-config';
import { OutputTail } from './output-tail';

export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  outputTail: string[];
  timedOut: boolean;
  /** Everything the hook wrote to stdout (for query hooks such as `incoming`), capped. */
  stdout: string;
}

export interface RunningHook {
  /** Process group id (the hook is its group's leader), so a timeout can kill what it spawned too. */
  pgid: number | undefined;
  result: Promise<HookResult>;
}

export interface HookLaunch {
  hook: HookCommand;
  /** JSON written to the hook's stdin: the request, never argv or a shell. */
  stdin: string;
  env: Record<string, string>;
  cwd: string;
  killGraceMs: number;
}

const STDOUT_CAP = 1024 * 1024;

/**
 * Starts a configured hook: exactly the configured command and args, no shell, its own process
 * group. On timeout the whole group gets SIGTERM, then SIGKILL after the grace, and the result
 * says failed and timedOut.
 */
export function startHook(launch: HookLaunch): RunningHook {
  const started = Date.now();
  const tail = new OutputTail();
  let stdout = '';
  const child = spawn(launch.hook.command, launch.hook.args, {
    shell: false,
    detached: true,
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pgid = child.pid;

  const result = new Promise<HookResult>((resolve) => {
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      if (killTimer && !timedOut) clearTimeout(killTimer);
      const lines = tail.lines();
      if (spawnError) lines.push(`agent: cannot start ${launch.hook.command}: ${spawnError.message}`);
      if (timedOut) lines.push(`agent: killed after the ${launch.hook.timeoutMs} ms timeout`);
      resolve({
        ok: !timedOut && !spawnError && exitCode === 0,
        exitCode,
        signal,
        durationMs: Date.now() - started,
        outputTail: lines,
        timedOut,
        stdout,
      });
    };

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      signalGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), launch.killGraceMs);
      killTimer.unref();
    }, launch.hook.timeoutMs);

    child.stdout!.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (stdout.length < STDOUT_CAP) stdout += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
    // A hook that does not read its stdin closes the pipe: that is its business, not an error.
    child.stdin!.on('error', () => {});
    child.stdin!.end(launch.stdin);
    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, signal) => {
      // Output still in the pipes arrives before 'close'; a grandchild holding them open must not
      // keep the step waiting, hence the short cap.
      const done = () => finish(code, signal);
      const cap = setTimeout(done, 250);
      child.once('close', () => {
        clearTimeout(cap);
        done();
      });
    });
  });

  return { pgid, result };
}

export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
