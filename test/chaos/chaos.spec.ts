import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const MAIN = resolve(process.env.LUO_FLEET_DIST ?? resolve(ROOT, 'dist'), 'scripts/chaos/main.js');

/** Runs the built chaos script as a child (it starts its own Redis and apps); returns its exit code and output. */
function chaos(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => done({ code, out }));
  });
}

/*
 * The CI-sized chaos run: 200 hosts, one worker SIGKILL, a SIGKILL of the worker running the
 * coordinator, a planner restart, a Redis restart and every worker SIGKILLed while a host drains
 * (VMs mid-migration), every check against the hosts' own records.
 * The seed is fixed so a failure replays with `npm run chaos -- --ci --seed 7`.
 */
describe('chaos run (CI size)', () => {
  it('keeps every invariant through a worker kill, a coordinator kill, a planner restart, a Redis restart and a kill mid-drain', async () => {
    const { code, out } = await chaos(['--ci', '--seed', '7']);
    expect(out, out).toContain('all checks passed');
    expect(out).toMatch(/worker-sigkill 1, coordinator-sigkill 1, all-workers-sigkill 0, drain-sigkill 1, planner-restart 1, redis-restart 1/);
    expect(code, out).toBe(0);
  }, 180_000);

  it('halts on an exceeded failure budget, not before', async () => {
    const { code, out } = await chaos(['--ci', '--budget-test', '--seed', '11']);
    expect(out, out).toMatch(/rollout \S+: halted/);
    expect(out, out).toMatch(/PASS {2}failure budget halts when exceeded, not before/);
    expect(code, out).toBe(0);
  }, 180_000);
});
