import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookCommand } from '../config/agent-config';
import { readOutputTail } from './output-tail';

export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Last lines of stdout and stderr as the hook interleaved them. */
  outputTail: string[];
  timedOut: boolean;
  /** What the hook wrote to stdout, only when asked for (query hooks such as `incoming`). */
  stdout?: string;
}

export interface RunningHook {
  /** Process group id (the hook leads its own group), so a timeout can kill what it spawned too. */
  pgid: number | undefined;
  result: Promise<HookResult>;
}

export interface HookLaunch {
  hook: HookCommand;
  /** JSON given to the hook on stdin: the request travels this way, never in argv or a shell. */
  stdin: string;
  env: Record<string, string>;
  cwd: string;
  killGraceMs: number;
  /** Where the request and the output files go; named after the request, kept for diagnosis. */
  outputDir: string;
  outputName: string;
  /** Keep stdout apart (it is the hook's answer) instead of interleaving it with stderr. */
  captureStdout?: boolean;
}

const STDOUT_CAP = 1024 * 1024;

/**
 * Starts exactly the configured command and args, with no shell, in a process group of its own.
 * Its stdin, stdout and stderr are files, not pipes to the agent: a hook outlives an agent crash
 * without dying of SIGPIPE half-way through a step, and its output stays on disk. On timeout the
 * group gets SIGTERM, then SIGKILL after the grace, and the result says failed and timedOut.
 */
export function startHook(launch: HookLaunch): RunningHook {
  const started = Date.now();
  mkdirSync(launch.outputDir, { recursive: true, mode: 0o700 });
  const base = join(launch.outputDir, launch.outputName);
  const requestFile = `${base}.request.json`;
  const outputFile = `${base}.output`;
  const stdoutFile = `${base}.stdout`;
  writeFileSync(requestFile, launch.stdin, { mode: 0o600 });
  const stdinFd = openSync(requestFile, 'r');
  const outputFd = openSync(outputFile, 'w', 0o600);
  const stdoutFd = launch.captureStdout ? openSync(stdoutFile, 'w', 0o600) : outputFd;

  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(launch.hook.command, launch.hook.args, {
      shell: false,
      detached: true,
      cwd: launch.cwd,
      env: launch.env,
      stdio: [stdinFd, stdoutFd, outputFd],
    });
  } finally {
    // The child has its own copies now.
    closeSync(stdinFd);
    closeSync(outputFd);
    if (stdoutFd !== outputFd) closeSync(stdoutFd);
  }
  const pgid = child.pid;

  const result = new Promise<HookResult>((resolve) => {
    let timedOut = false;
    let settled = false;
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      const lines = readOutputTail(outputFile);
      let stdout: string | undefined;
      if (launch.captureStdout) {
        stdout = readFileSync(stdoutFile, 'utf8').slice(0, STDOUT_CAP);
        lines.push(...readOutputTail(stdoutFile));
      }
      if (spawnError) lines.push(`agent: cannot start ${launch.hook.command}: ${spawnError.message}`);
      if (timedOut) lines.push(`agent: killed after the ${launch.hook.timeoutMs} ms timeout`);
      resolve({
        ok: !timedOut && !spawnError && exitCode === 0,
        exitCode,
        signal,
        durationMs: Date.now() - started,
        outputTail: lines.slice(-20),
        timedOut,
        ...(stdout !== undefined ? { stdout } : {}),
      });
    };

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      signalGroup(pgid, 'SIGTERM');
      // Also reaches what the hook left behind if its leader obeyed SIGTERM but a child did not.
      setTimeout(() => signalGroup(pgid, 'SIGKILL'), launch.killGraceMs).unref();
    }, launch.hook.timeoutMs);

    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, signal) => finish(code, signal));
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
