import { spawn, type ChildProcess } from 'node:child_process';
import { executableOnPath } from './executable-on-path';
import { freePort } from './free-port';
import { answersPing } from './redis-ping';

/** How to get redis-server where it is missing: the one hint every "no Redis" message gives. */
export const INSTALL_REDIS_SERVER = 'apt-get install redis-server';

export class RedisServerMissingError extends Error {
  override name = 'RedisServerMissingError';

  constructor() {
    super(`redis-server is not on PATH (${INSTALL_REDIS_SERVER})`);
  }
}

/** A redis-server of one run's own (a demo, a test run), gone when the run ends. */
export interface PrivateRedisServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** SIGTERM, SIGKILL after 5 s; resolves once the server has exited. */
  stop(): Promise<void>;
}

/** Starts the server process: by default a plain child whose output is dropped; a caller that logs or supervises its children passes its own. */
export type StartRedisProcess = (binary: string, args: string[]) => ChildProcess;

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 10_000;
const STOP_GRACE_MS = 5_000;

/**
 * Starts redis-server on a free port of 127.0.0.1 without persistence (no RDB snapshots, no AOF),
 * its working directory `dir`, and resolves once it answers PING. Throws RedisServerMissingError
 * when there is no redis-server; a server that exits or stays silent for 10 s is killed and the
 * error says so.
 */
export async function startPrivateRedisServer(
  dir: string,
  start: StartRedisProcess = (binary, args) => spawn(binary, args, { stdio: 'ignore' }),
): Promise<PrivateRedisServer> {
  const binary = executableOnPath('redis-server');
  if (binary === null) throw new RedisServerMissingError();
  const port = await freePort(HOST);
  const proc = start(binary, ['--save', '', '--appendonly', 'no', '--bind', HOST, '--port', String(port), '--dir', dir]);
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + READY_WITHIN_MS;
  while (!(await answersPing(HOST, port))) {
    if (spawnError) throw new Error(`the private redis-server could not start: ${spawnError.message}`);
    const exited = proc.exitCode !== null || proc.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await stopProcess(proc, 0);
      throw new Error(
        exited
          ? `the private redis-server on port ${port} exited (${proc.signalCode ?? `code ${proc.exitCode}`}) before answering PING`
          : `the private redis-server on port ${port} did not answer PING within ${READY_WITHIN_MS / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://${HOST}:${port}`, port, process: proc, stop: () => stopProcess(proc, STOP_GRACE_MS) };
}

/** SIGTERM, then SIGKILL after `graceMs` (at once for 0); resolves once the process has exited. */
function stopProcess(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    proc.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
  });
}
