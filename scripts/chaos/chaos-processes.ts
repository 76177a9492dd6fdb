import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
  recent: string[];
}

const RECENT_LINES = 30;
const STOP_GRACE_MS = 5_000;

/**
 * The run's child processes by name. A name may be started again after its process died (a
 * restarted worker gets a new name, a restarted planner or Redis the same one). All output goes to
 * one log file, each line tagged with the child's name.
 */
export class ChaosProcesses {
  private readonly children = new Map<string, Child>();
  private readonly log: WriteStream;

  constructor(
    readonly logFile: string,
    private readonly dist: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  start(name: string, command: string, args: string[], env: Record<string, string>, onLine?: (line: string) => void): ChildProcess {
    const proc = spawn(command, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const recent: string[] = [];
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        this.log.write(`${new Date().toISOString()} [${name}] ${line}\n`);
        recent.push(line);
        if (recent.length > RECENT_LINES) recent.shift();
        onLine?.(line);
      });
    }
    const exited = new Promise<void>((done) => {
      proc.once('exit', (code, signal) => {
        this.log.write(`${new Date().toISOString()} [${name}] exited (${signal ?? `code ${code}`})\n`);
        done();
      });
      proc.once('error', (err) => {
        this.log.write(`[${name}] could not start: ${err.message}\n`);
        done();
      });
    });
    this.children.set(name, { name, proc, exited, recent });
    return proc;
  }

  /** `node <dist>/apps/<app>/src/main.js`. */
  startApp(name: string, app: string, env: Record<string, string>, onLine?: (line: string) => void): ChildProcess {
    return this.start(name, process.execPath, [resolve(this.dist, 'apps', app, 'src/main.js')], env, onLine);
  }

  alive(name: string): boolean {
    const c = this.children.get(name);
    return c !== undefined && c.proc.exitCode === null && c.proc.signalCode === null;
  }

  names(): string[] {
    return [...this.children.keys()].filter((n) => this.alive(n));
  }

  tail(name: string): string {
    return (this.children.get(name)?.recent ?? []).join('\n');
  }

  /** Sends `signal` and waits for the exit; SIGKILL after 5 s if a SIGTERM was not enough. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.children.get(name);
    if (!c || !this.alive(name)) return;
    c.proc.kill(signal);
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), STOP_GRACE_MS);
    await c.exited;
    clearTimeout(timer);
  }

  async stopAll(order: (names: string[]) => string[][] = (n) => [n]): Promise<void> {
    for (const group of order(this.names())) await Promise.all(group.map((n) => this.stop(n)));
  }

  async close(): Promise<void> {
    await this.stopAll();
    await new Promise<void>((done) => this.log.end(done));
  }

  /** Last resort on an unexpected exit of the run: nothing may outlive it. */
  killAllNow(): void {
    for (const n of this.names()) this.children.get(n)!.proc.kill('SIGKILL');
  }
}
