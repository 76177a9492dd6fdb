import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');

export interface PrivateCli {
  /** Runs the CLI as a child process (asynchronously: an in-process planner keeps answering). */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Starts the CLI and hands it back while it runs (for `watch`). */
  start(args: string[], env?: Record<string, string>): RunningCli;
  remove(): void;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** Resolves once stdout so far matches. */
  stdoutMatching(pattern: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<CliResult>;
}

/**
 * The CLI of LUO_FLEET_DIST (a private build made before the run) if set; else compiles the CLI
 * (and the libs it imports) into a temporary directory, never into the shared dist/ that other
 * suites run from while this one builds.
 */
export async function privateCli(): Promise<PrivateCli> {
  const dist = process.env.LUO_FLEET_DIST;
  if (dist !== undefined) return cliAt(join(dist, 'apps/cli/src/main.js'), () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'luo-cli-'));
  const out = join(dir, 'out');
  const config = join(dir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.build.json'),
      compilerOptions: { outDir: out, rootDir: REPO, baseUrl: REPO, sourceMap: false, typeRoots: [join(REPO, 'node_modules/@types')] },
      include: [join(REPO, 'apps/cli/src/**/*.ts')],
    }),
  );
  const bin = (name: string) => join(REPO, 'node_modules/.bin', name);
  await run(bin('tsc'), ['-p', config], { cwd: REPO, timeout: 240_000 });
  await run(bin('tsc-alias'), ['-p', config, '--outDir', out], { cwd: REPO, timeout: 120_000 });
  return cliAt(join(out, 'apps/cli/src/main.js'), () => rmSync(dir, { recursive: true, force: true }));
}

function cliAt(main: string, remove: () => void): PrivateCli {
  if (!existsSync(main)) throw new Error(`${main} missing: build the CLI first`);
  // Maybe outside the repository: modules resolve through NODE_PATH.
  const envOf = (env: Record<string, string>) => ({ ...process.env, NODE_PATH: join(REPO, 'node_modules'), ...env });
  return {
    start(args, env = {}) {
      const child = spawn(process.execPath, [main, ...args], { cwd: REPO, env: envOf(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const done = new Promise<CliResult>((resolveDone) => child.on('close', (code) => resolveDone({ status: code, stdout, stderr })));
      return {
        done,
        async stdoutMatching(pattern, timeoutMs = 60_000) {
          const deadline = Date.now() + timeoutMs;
          while (!pattern.test(stdout)) {
            if (Date.now() > deadline || child.exitCode !== null) throw new Error(`CLI output never matched ${pattern}: ${stdout}${stderr}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          return stdout;
        },
      };
    },
    run: (args, env = {}) =>
      new Promise((done) => {
        execFile(
          process.execPath,
          [main, ...args],
          { cwd: REPO, env: envOf(env), timeout: 60_000, encoding: 'utf8' },
          (err, stdout, stderr) => done({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      }),
    remove,
  };
}
