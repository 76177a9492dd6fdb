import { expect } from 'vitest';
import { runToExit } from './app-process';

/** A refused start loads the app first: a loaded CI machine can take tens of seconds for it. */
export const REFUSED_START_TIMEOUT_MS = 90_000;

/**
 * Starts the built `app` with a bad environment and checks that it refuses the way an operator
 * needs: exit code 2, nothing on stdout, and one line on stderr, without a stack, that names each
 * of `named` (the wrong variables).
 */
export async function expectRefusedStart(app: string, env: Record<string, string>, named: string[]): Promise<string> {
  const run = await runToExit(app, env, REFUSED_START_TIMEOUT_MS - 10_000);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^luo-(fleet ${app}|agent): `));
  expect(lines[0]).not.toMatch(/\bat .*\.(ts|js):\d+/);
  for (const name of named) expect(lines[0]).toContain(name);
  return lines[0];
}
