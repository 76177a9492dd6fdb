import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** A built luo-fleet app (`dist/apps/<app>/src/main.js`) running as a real child process. */
export interface AppProcess {
  readonly proc: ChildProcess;
  readonly output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const ROOT = resolve(__dirname, '../..');

export function distEntry(app: string): string {
  // Works both from test/ (vitest, sources) and from dist/test/ (compiled).
  const root = ROOT.endsWith('/dist') ? resolve(ROOT, '..') : ROOT;
  // LUO_FLEET_DIST points at another build (e.g. a private one while the shared dist/ is rebuilt).
  return resolve(process.env.LUO_FLEET_DIST ?? resolve(root, 'dist'), 'apps', app, 'src/main.js');
}

export function startApp(app: string, env: Record<string, string>): AppProcess {
  const proc = spawn(process.execPath, [distEntry(app)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return {
    proc,
    output: () => out,
    kill: (signal = 'SIGTERM') =>
      new Promise((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill(signal);
      }),
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface AppExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built app expected to stop on its own (a refused start): its exit code and output. One
 * still running after `timeoutMs` is killed, and its code is then null.
 */
export function runToExit(app: string, env: Record<string, string>, timeoutMs = 20_000): Promise<AppExit> {
  const proc = spawn(process.execPath, [distEntry(app)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((done) => {
    proc.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
