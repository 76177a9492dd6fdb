import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signRequest } from '@luo-fleet/handover';

const here = resolve(__dirname, '../../..');
// From sources (vitest) or from dist/test/ (the kernel bench, compiled).
const ROOT = here.endsWith('/dist') ? resolve(here, '..') : here;
// LUO_FLEET_DIST: a private build, as test/support/app-process.ts honours it for the other apps.
// The agent runs as it is deployed: the one-file bundle `npm run build` writes (scripts/bundle-agent.ts).
export const AGENT_MAIN = join(process.env.LUO_FLEET_DIST ?? join(ROOT, 'dist'), 'agent/luo-agent.js');
export const SIM_STEP = join(ROOT, 'deploy/agent/hooks/simulated/sim-step.mjs');
const HOOKS = ['kexec_load', 'preserve', 'freeze', 'kexec', 'retrieve', 'finish', 'thaw', 'unpreserve', 'kexec_unload', 'incoming', 'vms'] as const;

export interface HookOverride {
  command: string;
  args: string[];
  timeoutMs: number;
}

export interface AgentHostOptions {
  hostId: string;
  /** A loopback address of its own, e.g. 127.0.0.2. */
  address: string;
  kernel?: string;
  fixture?: string;
  hookTimeoutMs?: number;
  hooks?: Partial<Record<(typeof HOOKS)[number], Partial<HookOverride>>>;
  /** Optional hooks left out of the config (e.g. `vms`). */
  omitHooks?: Array<(typeof HOOKS)[number]>;
  kexecReturnWindowMs?: number;
  killGraceMs?: number;
  /** How long the simulated machine takes to "boot" after a kexec before its agent starts again. */
  bootDelayMs?: number;
}

/**
 * One simulated host for tests: its own sysfs tree, state dir, secret and agent process on its own
 * loopback address, plus the supervisor the simulated kexec hook relies on: `reboot-requested`
 * makes it kill the agent, run `sim-step.mjs boot` and start the agent again; `power-off-requested`
 * only kills it.
 */
export class AgentHost {
  readonly dir: string;
  readonly stateDir: string;
  readonly simDir: string;
  readonly sysfsRoot: string;
  readonly configFile: string;
  readonly secret: Buffer;
  url = '';
  private port = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private watcher: NodeJS.Timeout | undefined;
  private supervising: Promise<void> = Promise.resolve();
  readonly output: string[] = [];
  restarts = 0;

  private constructor(readonly options: AgentHostOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `luo-agent-${options.hostId}-`));
    this.stateDir = join(this.dir, 'state');
    this.simDir = join(this.stateDir, 'sim');
    this.sysfsRoot = join(this.dir, 'sys');
    this.configFile = join(this.dir, 'agent.json');
    this.secret = Buffer.from(randomBytes(32).toString('hex'));
  }

  static async create(options: AgentHostOptions): Promise<AgentHost> {
    const host = new AgentHost(options);
    await host.prepare();
    await host.start();
    host.supervise();
    return host;
  }

  private async prepare(): Promise<void> {
    const o = this.options;
    cpSync(join(ROOT, 'test/fixtures', o.fixture ?? 'singleton-endpoint'), this.sysfsRoot, { recursive: true, verbatimSymlinks: true });
    mkdirSync(this.stateDir, { recursive: true });
    await runNode([SIM_STEP, 'init', this.stateDir, o.kernel ?? '6.12.0-luo1']);
    const secretFile = join(this.dir, 'secret');
    writeFileSync(secretFile, `${this.secret.toString()}\n`, { mode: 0o600 });
    this.port = await freePort(o.address);
    this.url = `http://${o.address}:${this.port}`;
    const hooks = Object.fromEntries(
      HOOKS.filter((name) => !o.omitHooks?.includes(name)).map((name) => [
        name,
        { command: process.execPath, args: [SIM_STEP, name], timeoutMs: o.hookTimeoutMs ?? 20_000, ...(o.hooks?.[name] ?? {}) },
      ]),
    );
    const config = {
      hostId: o.hostId,
      listen: { host: o.address, port: this.port },
      sysfsRoot: this.sysfsRoot,
      bootIdPath: join(this.simDir, 'boot_id'),
      kernelReleasePath: join(this.simDir, 'osrelease'),
      cmdlinePath: join(this.simDir, 'cmdline'),
      liveupdateDevicePath: join(this.simDir, 'liveupdate'),
      secretFile,
      stateDir: this.stateDir,
      kexecReturnWindowMs: o.kexecReturnWindowMs ?? 1_500,
      killGraceMs: o.killGraceMs ?? 500,
      hooks,
    };
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [AGENT_MAIN], {
      env: { ...process.env, LUO_AGENT_CONFIG: this.configFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const deadline = Date.now() + 45_000;
    while (!this.output.some((l) => l.includes('listening on'))) {
      if (child.exitCode !== null) throw new Error(`agent ${this.options.hostId} exited ${child.exitCode}:\n${this.output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`agent ${this.options.hostId} did not start:\n${this.output.join('\n')}`);
      await sleep(50);
    }
    this.output.length = 0;
  }

  /** SIGKILL, as a crash or a reboot would; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once any reboot the supervisor is acting out has ended (the agent listens again). */
  async idle(): Promise<void> {
    await this.supervising;
  }

  private supervise(): void {
    this.watcher = setInterval(() => {
      if (existsSync(this.sim('reboot-requested'))) {
        rmSync(this.sim('reboot-requested'));
        this.supervising = this.supervising.then(async () => {
          await this.kill();
          await sleep(this.options.bootDelayMs ?? 300);
          const boot = await runNode([SIM_STEP, 'boot', this.stateDir]);
          if (boot.code !== 0) throw new Error(`simulated boot failed: ${boot.stderr}`);
          await this.start();
          this.restarts++;
        });
      } else if (existsSync(this.sim('power-off-requested'))) {
        rmSync(this.sim('power-off-requested'));
        this.supervising = this.supervising.then(() => this.kill());
      }
    }, 100);
  }

  sim(name: string): string {
    return join(this.simDir, name);
  }

  /** Writes a fault (or any) file into the simulated host, e.g. `fail-preserve`, `delay-preserve`. */
  fault(name: string, content = ''): void {
    writeFileSync(this.sim(name), content);
  }

  readSim(name: string): string | undefined {
    return existsSync(this.sim(name)) ? readFileSync(this.sim(name), 'utf8').trim() : undefined;
  }

  /** `[step, requestId, what]` for every line the simulated hooks logged. */
  hookLog(): { step: string; requestId: string; what: string }[] {
    const text = this.readSim('hook-log') ?? '';
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [step, requestId, what] = l.split(' ');
        return { step, requestId, what };
      });
  }

  /** A signed request, exactly as the driver would send it. */
  signedFetch(method: 'GET' | 'POST', path: string, body?: unknown, secret: Buffer = this.secret): Promise<Response> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { ...signRequest(secret, { method, path, body: text ?? '' }), 'content-type': 'application/json' };
    return fetch(`${this.url}${path}`, { method, headers, body: text, signal: AbortSignal.timeout(30_000) });
  }

  async dispose(): Promise<void> {
    clearInterval(this.watcher);
    await this.supervising.catch(() => {});
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(address: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

export function runNode(args: string[], env: NodeJS.ProcessEnv = process.env, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

