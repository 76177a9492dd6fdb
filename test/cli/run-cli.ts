import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
const BIN = resolve(REPO, 'apps/cli/bin/luo-fleet.js');
/** LUO_FLEET_DIST lets a run use a private build while others rebuild the shared dist/. */
const PRIVATE_DIST = process.env.LUO_FLEET_DIST;
const MAIN = resolve(PRIVATE_DIST ?? resolve(REPO, 'dist'), 'apps/cli/src/main.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (`npm test` builds first), or the one in LUO_FLEET_DIST. */
export function runCli(args: string[]): CliRun {
  if (!existsSync(MAIN)) throw new Error(`CLI not built (${MAIN} missing): run \`npm run build\` first`);
  const entry = PRIVATE_DIST === undefined ? BIN : MAIN;
  const r = spawnSync(process.execPath, [entry, ...args], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const fixture = (name: string) => `test/fixtures/${name}`;
