import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetKeys } from '@luo-fleet/redis';
import { RolloutStore } from '@luo-fleet/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, physfnHost, singletonHost } from '../planner/host-topologies';
import { everyReasonVms } from '../planner/host-vms';
import { startPlanner, TOKENS, type PlannerUnderTest } from '../planner/planner-harness';
import { privateCli, type PrivateCli } from './private-build';

let p: PlannerUnderTest;
let cli: PrivateCli;
let store: RolloutStore;
let keys: FleetKeys;

const run = (args: string[], env: Record<string, string> = {}) => cli.run(args, { LUO_FLEET_API: p.base, LUO_FLEET_TOKEN: TOKENS.operator, ...env });

beforeAll(async () => {
  [cli, p] = await Promise.all([privateCli(), startPlanner()]);
  keys = new FleetKeys(p.prefix);
  store = new RolloutStore(p.redis, keys);
  const res = await p.call('POST', '/v1/hosts:batch', {
    body: {
      hosts: [
        host('hv-c1', { rack: 'r1', zone: 'zc' }, singletonHost()),
        host('hv-c2', { rack: 'r2', zone: 'zc' }, singletonHost()),
        { ...host('hv-c3', { rack: 'r2', zone: 'zc' }, physfnHost()), vms: everyReasonVms() },
      ],
    },
  });
  expect(res.status).toBe(200);
}, 300_000);
afterAll(async () => {
  await p?.close();
  cli?.remove();
});

describe('luo-fleet rollout', () => {
  it('create --dry-run prints the plan and stores nothing', async () => {
    const r = await run(['rollout', 'create', '--selector', 'zone=zc', '--kernel', '6.14.0', '--canary', '1', '--require-approval', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dry run: nothing stored/);
    expect(r.stdout).toContain('hosts 3: 2 to update, 1 skipped (IS_PHYSFN 1)');
    expect(r.stdout).toContain('VMs 5: 1 can ride the Live Update, 4 cannot (DEVICE_NOT_PRESERVABLE 1, MEMORY_NOT_MEMFD 1, MEMORY_HUGETLB 1, IOAS_MUTABLE 1)');
    expect(r.stdout).toContain('batches 1, 1 (each after the first waits for approval)');
    expect(r.stdout).toMatch(/schedule: 2 batches \(1, 1\).*plus 1 approval wait/);
    expect(await store.list(10)).toEqual([]);
  });

  it('create, then status, list and hosts show it', async () => {
    const start = new Date(Date.now() + 3_600_000).toISOString();
    const created = await run([
      'rollout', 'create', '--selector', 'zone=zc', '--kernel', '6.14.0', '--max-concurrent', '50%', '--max-failures', '0',
      '--domain-key', 'rack', '--domain-limit', '1', '--start', start, '--duration-minutes', '60', '--idempotency-key', 'cli-1', '--json',
    ]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const { rollout } = JSON.parse(created.stdout);
    expect(rollout.limits).toEqual({ maxConcurrent: 1, maxFailures: 0, batches: [1, 1] });
    expect(rollout.spec.window.startAt).toBe(Date.parse(start));
    // The same key again: the same rollout, not a second one.
    const again = await run(['rollout', 'create', '--selector', 'zone=zc', '--kernel', '6.14.0', '--max-concurrent', '50%', '--max-failures', '0',
      '--domain-key', 'rack', '--domain-limit', '1', '--start', start, '--duration-minutes', '60', '--idempotency-key', 'cli-1', '--json']);
    expect(JSON.parse(again.stdout).rollout.id).toBe(rollout.id);
    expect(await store.list(10)).toHaveLength(1);

    const status = await run(['rollout', 'status', rollout.id]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`rollout ${rollout.id} scheduled`);
    expect(status.stdout).toContain('hosts 3: pending 2, skipped 1');
    expect(status.stdout).toContain('VMs 5: 1 can ride the Live Update, 4 cannot (first reasons: DEVICE_NOT_PRESERVABLE 1, MEMORY_NOT_MEMFD 1, MEMORY_HUGETLB 1, IOAS_MUTABLE 1)');
    expect(status.stdout).toContain('limits: 1 at a time, at most 1 per rack; halts after 0 failures; batches 1, 1');
    const json = await run(['rollout', 'status', rollout.id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: rollout.id, status: 'scheduled', hostsByState: { pending: 2, skipped: 1 } });

    const list = await run(['rollout', 'list']);
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${rollout.id}\\s+scheduled\\s+.*6\\.14\\.0\\s+3\\s+1\\s+zone=zc$`));
    const hosts = await run(['rollout', 'hosts', rollout.id, '--limit', '2']);
    expect(hosts.stdout.split('\n')[0]).toMatch(/^HOST\s+STATE/);
    expect(hosts.stdout).toMatch(/more: --cursor \S+ \(or --all\)/);
    const all = await run(['rollout', 'hosts', rollout.id, '--all', '--json']);
    expect(JSON.parse(all.stdout).hosts.map((h: { hostId: string }) => h.hostId).sort()).toEqual(['hv-c1', 'hv-c2', 'hv-c3']);
  });

  it('reads a --file spec, flags overriding it', async () => {
    const file = join(tmpdir(), `luo-rollout-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ selector: 'zone=nowhere', targetKernel: '6.14.0', maxConcurrent: 1 }));
    const r = await run(['rollout', 'create', '--file', file, '--selector', 'zone=zc', '--dry-run', '--json']);
    rmSync(file, { force: true });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).rollout.spec).toMatchObject({ selector: 'zone=zc', maxConcurrent: 1, dryRun: true });
  });

  it('a refused request is one stderr line and exit 2', async () => {
    const before = await store.list(10);
    const r = await run(['rollout', 'create', '--selector', 'zone=zc', '--kernel', '6.14.0', '--max-concurrent', '0']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('luo-fleet: 400 maxConcurrent: must be at least 1\n');
    expect(await store.list(10)).toEqual(before);

    const several = await run(['rollout', 'create', '--selector', 'zone in (zc', '--kernel', '6.14.0', '--max-failures', '150%']);
    expect(several.status).toBe(2);
    expect(several.stderr).toMatch(/^luo-fleet: 400 selector: .*; maxFailures: percentage must be between 1% and 100%, got 150%\n$/);

    const unknown = await run(['rollout', 'status', 'no-such-rollout']);
    expect(unknown).toMatchObject({ status: 2, stdout: '', stderr: 'luo-fleet: 404 id: no rollout no-such-rollout\n' });

    const noToken = await run(['rollout', 'list'], { LUO_FLEET_TOKEN: '' });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/^luo-fleet: 401 missing bearer token.*\(set --token or LUO_FLEET_TOKEN\)\n$/);

    const viewer = await run(['rollout', '--token', TOKENS.viewer, 'pause', before[0].id]);
    expect(viewer.status).toBe(2);
    expect(viewer.stderr).toMatch(/^luo-fleet: 403 victor has role viewer/);

    const local = await run(['rollout', 'create', '--selector', 'zone=zc', '--kernel', 'k', '--domain-key', 'rack']);
    expect(local).toMatchObject({ status: 2, stderr: 'luo-fleet: --domain-key and --domain-limit go together\n' });
  });

  it('an unreachable planner is exit 1 with one line', async () => {
    const r = await run(['rollout', 'list', '--api', 'http://127.0.0.1:9']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^luo-fleet: cannot reach the planner at http:\/\/127\.0\.0\.1:9: \S.*\n$/);
  });

  it('pause, approve (409) and abort; watch exits 1 when the rollout ends aborted and 0 when completed', async () => {
    const created = await run(['rollout', 'create', '--selector', 'zone=zc', '--kernel', '6.15.0', '--start', String(Date.now() + 3_600_000), '--json']);
    const id = JSON.parse(created.stdout).rollout.id as string;
    expect((await run(['rollout', 'pause', id])).stdout).toBe(`rollout ${id} paused\n`);
    const approve = await run(['rollout', 'approve', id]);
    expect(approve).toMatchObject({ status: 2, stderr: expect.stringMatching(/^luo-fleet: 409 status: approve applies only to a rollout that is awaiting_approval; this one is paused\n$/) });

    // Not a TTY: one line per change. The coordinator (no worker here) is played by hand.
    const watching = cli.start(['rollout', 'watch', id, '--interval', '100'], { LUO_FLEET_API: p.base, LUO_FLEET_TOKEN: TOKENS.operator });
    await watching.stdoutMatching(/^paused: /);
    expect((await run(['rollout', 'abort', id])).stdout).toBe(`rollout ${id} aborted\n`);
    await watching.stdoutMatching(/\naborted: .*cancelled 0/);
    await store.cancelPending(id, 'aborted by operator');
    await store.advance(id);
    const watched = await watching.done;
    expect(watched.stderr).toBe('');
    expect(watched.status).toBe(1);
    const lines = watched.stdout.split('\n').filter((l) => /^(paused|aborted): /.test(l));
    expect(lines[0]).toBe('paused: updated 0, rolled_back 0, failed 0, skipped 1, cancelled 0, in flight 0 (of 3)');
    expect(lines[1]).toBe('aborted: updated 0, rolled_back 0, failed 0, skipped 1, cancelled 0, in flight 0 (of 3)');
    // (A poll may land between the two cancellations.)
    expect(lines[lines.length - 1]).toBe('aborted: updated 0, rolled_back 0, failed 0, skipped 1, cancelled 2, in flight 0 (of 3)');
    lines.slice(1).forEach((line, i) => expect(line).not.toBe(lines[i]));
    expect(watched.stdout).toContain(`rollout ${id} aborted (abort by operator)`);
    expect(watched.stdout).toContain('hosts 3: skipped 1, cancelled 2');

    // A completed rollout: exit 0.
    await p.redis.hset(keys.admission(id), 'status', 'completed');
    const done = await run(['rollout', 'watch', id, '--interval', '100']);
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^completed: /);
  });
});
