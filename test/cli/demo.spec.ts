import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { simulatedFleet } from '../../apps/cli/src/demo/simulated-fleet';
import { REPO } from './run-cli';

/** LUO_FLEET_DIST lets a run use a private build while others rebuild the shared dist/. */
const DIST = process.env.LUO_FLEET_DIST ?? resolve(REPO, 'dist');
const CLI = resolve(DIST, 'apps/cli/src/main.js');
const OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'] as const;
const TERMINAL = ['completed', 'halted', 'aborted', 'expired'];

interface Summary {
  status: string;
  hosts: number;
  outcomes: Record<(typeof OUTCOMES)[number], number>;
  hostIdsByOutcome: Record<(typeof OUTCOMES)[number], string[]>;
  skippedByReason: Record<string, number>;
  vms: { total: number; preservable: number; rejected: number; byFirstReason: Record<string, number> };
  vmDisruptions: { preserved: number; migrated: number; restarted: number; lost: number };
  vmCensus: { vms: number; running: number; moved: number; idle: number; misplaced: number; examples: string[] };
  hostsByStrategy: Record<string, Record<string, number>>;
  makespanSeconds: number;
  docsUrl: string;
  metricsUrl: string;
  redis: { url: string; prefix: string };
}

function runDemo(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // The demo makes its own fresh key prefix; an inherited one would be kept instead of deleted.
    const env = { ...process.env };
    delete env.LUO_FLEET_PREFIX;
    const child = spawn(process.execPath, [CLI, 'demo', ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

describe('luo-fleet demo (whole fleet on this machine)', () => {
  it('rolls a simulated 40-host fleet to a final status and accounts for every host once', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run build\` first (npm test does)`);
    const r = await runDemo(['--hosts', '40', '--latency-scale', '0.01', '--seed', '7', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;

    expect(TERMINAL).toContain(summary.status);
    expect(summary.hosts).toBe(40);
    expect(OUTCOMES.reduce((sum, o) => sum + summary.outcomes[o], 0)).toBe(40);
    const expected = [...simulatedFleet(40, 7)].map((h) => h.id).sort();
    const seen = OUTCOMES.flatMap((o) => summary.hostIdsByOutcome[o]);
    expect(seen.sort()).toEqual(expected); // each host in exactly one outcome
    for (const o of OUTCOMES) expect(summary.hostIdsByOutcome[o]).toHaveLength(summary.outcomes[o]);
    expect(Object.values(summary.skippedByReason).reduce((a, b) => a + b, 0)).toBe(summary.outcomes.skipped);
    expect(summary.makespanSeconds).toBeGreaterThan(0);
    // Every generated VM is counted once, by verdict, and the human summary says so.
    const vms = [...simulatedFleet(40, 7)].reduce((n, h) => n + h.vms.length, 0);
    expect(summary.vms.total).toBe(vms);
    expect(summary.vms.preservable + summary.vms.rejected).toBe(vms);
    expect(Object.values(summary.vms.byFirstReason).reduce((a, b) => a + b, 0)).toBe(summary.vms.rejected);
    expect(r.stderr).toContain(`VMs ${vms}: ${summary.vms.preservable} can ride the Live Update, ${summary.vms.rejected} cannot`);
    // All three strategies are allowed: every host has one (or skip), and no VM is lost.
    const byStrategy = Object.values(summary.hostsByStrategy).flatMap((states) => Object.values(states));
    expect(byStrategy.reduce((a, b) => a + b, 0)).toBe(40);
    const d = summary.vmDisruptions;
    expect(d.lost).toBe(0);
    expect(d.preserved + d.migrated + d.restarted).toBeLessThanOrEqual(vms);
    expect(r.stderr).toContain(`VMs preserved ${d.preserved}, migrated ${d.migrated}, restarted ${d.restarted}, lost 0`);
    expect(r.stderr).toContain(`${summary.outcomes.updated} of 40 hosts on `);
    // Every VM runs exactly once after, by the simulated hosts' own records; a drain that broke
    // midway moved VMs that are not counted migrated (docs/strategies.md), so moved >= migrated.
    const census = summary.vmCensus;
    expect(census).toMatchObject({ vms, running: vms, idle: 0, misplaced: 0, examples: [] });
    expect(census.moved).toBeGreaterThanOrEqual(d.migrated);
    expect(r.stderr).toContain(`VMs after, by the hosts' own records: ${vms} of ${vms} running, each on exactly one host (${census.moved} on another than their own)`);

    // Human output went to stderr, and everything the demo started is gone.
    expect(r.stderr).toMatch(/simulated/);
    await expect(fetch(summary.docsUrl)).rejects.toThrow();
    const redis = new IORedis(summary.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await redis.connect();
      const left: string[] = [];
      for (const pattern of [`${summary.redis.prefix}:*`, `{${summary.redis.prefix}}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
          cursor = next;
          left.push(...keys);
        } while (cursor !== '0');
      }
      expect(left).toEqual([]);
    } catch (err) {
      // A private redis-server stopped with the demo: nothing left to look at.
      if (!/ECONNREFUSED|Connection is closed/.test(String(err))) throw err;
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
