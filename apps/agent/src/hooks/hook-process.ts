import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookCommand } from '../config/agent-config';
import { boundOutputFile, readOutputHead, readOutputTail } from './output-tail';

export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Last lines of stdout and stderr as the hook interleaved them. */
  outputTail: string[];
  timedOut: boolean;
  /**
   * What the hook wrote to stdout, only when asked for (query hooks such as `incoming`) and only
   * when it is at most STDOUT_CAP bytes; `stdoutBytes` says how much there was.
   */
  stdout?: string;
  stdoutBytes?: number;
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
  /** Open fds the hook inherits as its fds 3, 4, ... (e.g. retrieved guest memory handed to the VMM). */
  passFds?: number[];
}

/** The most of a hook's stdout read as its answer; a longer one is no answer. */
export const STDOUT_CAP = 1024 * 1024;
/** How often a running hook's output files are held to their size bound. */
const OUTPUT_CHECK_MS = 1_000;
// Appending: when the agent cuts a file down to its tail, the hook's next writes land after it.
const OUTPUT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;

/**
 * Starts exactly the configured command and args, with no shell, in a process group of its own.
 * Its stdin, stdout and stderr are files, not pipes to the agent: a hook outlives an agent crash
 * without dying of SIGPIPE half-way through a step, and its output stays on disk, each file held
 * to its size bound while the hook runs and after. On timeout the group gets SIGTERM, then SIGKILL
 * after the grace, and the result says failed and timedOut. When the hook itself exits, whatever
 * it left running in its group gets the same: nothing a hook started outlives its step.
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
  const outputFd = openSync(outputFile, OUTPUT_FLAGS, 0o600);
  const stdoutFd = launch.captureStdout ? openSync(stdoutFile, OUTPUT_FLAGS, 0o600) : outputFd;
  let stdoutDropped = 0;
  const bound = () => {
    boundOutputFile(outputFile);
    if (launch.captureStdout) stdoutDropped += boundOutputFile(stdoutFile);
  };

  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(launch.hook.command, launch.hook.args, {
      shell: false,
      detached: true,
      cwd: launch.cwd,
      env: launch.env,
      stdio: [stdinFd, stdoutFd, outputFd, ...(launch.passFds ?? [])],
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
      clearInterval(boundTimer);
      if (!timedOut) endGroup(pgid, launch.killGraceMs);
      // Read the answer before bounding the file: cutting it would make a valid answer look cut.
      const head = launch.captureStdout ? readOutputHead(stdoutFile, STDOUT_CAP) : undefined;
      bound();
      const lines = readOutputTail(outputFile);
      let stdout: string | undefined;
      let stdoutBytes: number | undefined;
      if (head) {
        stdoutBytes = head.bytes + stdoutDropped;
        if (stdoutBytes <= STDOUT_CAP) stdout = head.text;
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
        ...(stdoutBytes !== undefined ? { stdoutBytes } : {}),
      });
    };

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      endGroup(pgid, launch.killGraceMs);
    }, launch.hook.timeoutMs);
    const boundTimer = setInterval(bound, OUTPUT_CHECK_MS);
    boundTimer.unref();

    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, signal) => finish(code, signal));
  });

  return { pgid, result };
}

/** SIGTERM to the group, SIGKILL after the grace: also reaches what ignored or outlived the SIGTERM. */
function endGroup(pgid: number | undefined, graceMs: number): void {
  signalGroup(pgid, 'SIGTERM');
  setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs).unref();
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
