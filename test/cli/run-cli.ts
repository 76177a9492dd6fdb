import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
const BIN = resolve(REPO, 'apps/cli/bin/luo-fleet.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (`npm test` builds first). */
export function runCli(args: string[]): CliRun {
  if (!existsSync(resolve(REPO, 'dist/apps/cli/src/main.js'))) throw new Error('CLI not built: run `npm run build` first');
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const fixture = (name: string) => `test/fixtures/${name}`;
