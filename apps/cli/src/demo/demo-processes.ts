import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WORKER_NODE_FLAGS } from '@luo-fleet/jobs';

/** An infrastructure failure of the demo (exit 1), as opposed to a bad option (exit 2). */
export class DemoInfrastructureError extends Error {
  override name = 'DemoInfrastructureError';
}

const STOP_GRACE_MS = 5_000;

/**
 * The built entry file of a luo-fleet app next to this CLI: this file is
 * dist/apps/cli/src/demo/demo-processes.js, the apps are dist/apps/<app>/src/main.js.
 */
export function builtAppEntry(app: string): string {
  const entry = resolve(__dirname, '../../..', app, 'src/main.js');
  if (!existsSync(entry)) throw new DemoInfrastructureError(`${entry} is missing: build first (npm run build)`);
  return entry;
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
  /** The last lines it wrote, for the message when it dies. */
  recent: string[];
}

const RECENT_LINES = 20;

/**
 * The demo's child processes (planner, workers, metrics, a private redis-server). Their output goes
 * to one log file, each line tagged with the child's name; a child that exits while the demo still
 * needs it is reported through `onUnexpectedExit`.
 */
export class DemoProcesses {
  private readonly children: Child[] = [];
  private readonly log: WriteStream;
  private stopping = false;
  private readonly expected = new Set<string>();

  constructor(
    readonly logFile: string,
    private readonly onUnexpectedExit: (name: string, how: string) => void,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  start(name: string, command: string, args: string[], env: Record<string, string>): ChildProcess {
    const proc = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal's Ctrl-C reaches only the CLI, which then stops the apps
      // before the Redis they use, instead of everything dying at once in any order.
      detached: true,
    });
    const recent: string[] = [];
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.log.write(`[${name}] ${line}\n`);
        recent.push(line);
        if (recent.length > RECENT_LINES) recent.shift();
      });
    }
    const exited = new Promise<void>((done) => {
      proc.once('exit', (code, signal) => {
        this.log.write(`[${name}] exited (${signal ?? `code ${code}`})\n`);
        if (!this.stopping && !this.expected.has(name)) this.onUnexpectedExit(name, signal ?? `code ${code}`);
        done();
      });
      proc.once('error', (err) => {
        this.log.write(`[${name}] could not start: ${err.message}\n`);
        if (!this.stopping && !this.expected.has(name)) this.onUnexpectedExit(name, err.message);
        done();
      });
    });
    this.children.push({ name, proc, exited, recent });
    return proc;
  }

  /** `node <built app entry>` with the given environment. */
  startApp(name: string, app: string, env: Record<string, string>): ChildProcess {
    const flags = app === 'worker' ? WORKER_NODE_FLAGS : [];
    return this.start(name, process.execPath, [...flags, builtAppEntry(app)], env);
  }

  /** The last lines a child wrote, for the message when it died. */
  tail(name: string): string {
    return (this.children.find((c) => c.name === name)?.recent ?? []).join('\n');
  }

  /** SIGTERM to the named children (default: all), SIGKILL to any still there after 5 s. */
  async stop(names?: readonly string[]): Promise<void> {
    const chosen = this.children.filter((c) => names === undefined || names.includes(c.name));
    if (names === undefined) this.stopping = true;
    const alive = chosen.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    for (const c of alive) {
      this.expected.add(c.name);
      c.proc.kill('SIGTERM');
    }
    await Promise.all(
      alive.map(async (c) => {
        const timer = setTimeout(() => c.proc.kill('SIGKILL'), STOP_GRACE_MS);
        await c.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Closes the log file once every child is gone. */
  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((done) => this.log.end(done));
  }

  /** Last resort when the CLI exits without running its teardown: nothing may outlive it. */
  killAllNow(): void {
    this.stopping = true;
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
}
