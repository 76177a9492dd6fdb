import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostResult } from '@luo-fleet/store';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { startApp, waitFor as waitForAsync, type AppProcess } from '../support/app-process';
import { TEST_REDIS_URL } from '../support/redis-namespace';
import { AgentHost, waitFor } from './support/agent-host';

/*
 * The whole path on real processes: agents on their own loopback addresses (own sysfs tree,
 * simulated hooks, a supervisor that "reboots" them on kexec), registered through the planner API
 * by address only (the planner reads each topology from the agent), a rollout created through
 * POST /v1/rollouts, and real worker processes driving the agents. Outcomes are read back from
 * GET /v1/rollouts/:id/hosts and checked against the hosts' own files.
 */

const TARGET = '6.18.0-luo2';
const OLD_KERNEL = '6.12.0-luo1';
const PRESERVED = '0000:01:00.0';
const FLEET = 'agent-roll';

const HOSTS = {
  healthy: { hostId: 'hv-ar-healthy', address: '127.0.0.21' },
  failsPreserve: { hostId: 'hv-ar-preserve-fails', address: '127.0.0.22' },
  neverReturns: { hostId: 'hv-ar-never-returns', address: '127.0.0.23' },
  crashes: { hostId: 'hv-ar-crashes', address: '127.0.0.24' },
} as const;
type Role = keyof typeof HOSTS;

let planner: PlannerUnderTest;
let secretsDir: string;
const agents = {} as Record<Role, AgentHost>;
const bootIdBefore = {} as Record<Role, string | undefined>;
const workers: AppProcess[] = [];

/** Hooks that ran to the end, in order. */
function completedSteps(host: AgentHost): string[] {
  return host.hookLog().filter((l) => l.what === 'ok').map((l) => l.step);
}

function workerOutput(): string {
  return workers.map((w, i) => `--- worker ${i} ---\n${w.output().slice(-4000)}`).join('\n');
}

beforeAll(async () => {
  secretsDir = mkdtempSync(join(tmpdir(), 'luo-agent-roll-secrets-'));
  const roles = Object.keys(HOSTS) as Role[];
  const created = await Promise.all(roles.map((role) => AgentHost.create({ ...HOSTS[role] })));
  roles.forEach((role, i) => {
    agents[role] = created[i];
    // The planner and the workers hold each host's secret under its id, as in production.
    writeFileSync(join(secretsDir, HOSTS[role].hostId), `${created[i].secret.toString()}\n`, { mode: 0o600 });
    bootIdBefore[role] = created[i].readSim('boot_id');
  });
  agents.failsPreserve.fault('fail-preserve', 'VMM refused: vfio fd busy');
  agents.neverReturns.fault('never-return');
  // Long enough that the SIGKILL below lands while the hook runs.
  agents.crashes.fault('delay-preserve', '3000');

  planner = await startPlanner({ AGENT_SECRETS_DIR: secretsDir });
  const registered = await planner.call('POST', '/v1/hosts:batch', {
    body: {
      hosts: roles.map((role, i) => ({
        id: HOSTS[role].hostId,
        labels: { fleet: FLEET, rack: `rack-${i}`, zone: 'zone-1' },
        driver: { kind: 'agent', url: agents[role].url },
      })),
    },
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  expect(registered.body).toEqual({ created: 4, replaced: 0 });

  for (let i = 0; i < 2; i++) {
    workers.push(
      startApp('worker', {
        REDIS_URL: TEST_REDIS_URL,
        LUO_FLEET_PREFIX: planner.prefix,
        AGENT_SECRETS_DIR: secretsDir,
        AGENT_TIMEOUT_MS: '5000',
        // An agent restarted on a loaded 2-core machine can take well over the default 6 s to
        // listen again: give the mid-preserve restart ~18 s (0.5 s x (1+...+8)).
        AGENT_RETRIES: '8',
        AGENT_RETRY_DELAY_MS: '500',
        WORKER_CONCURRENCY: '10',
        COORDINATOR_TICK_MS: '50',
        BOOT_POLL_MS: '200',
        // Long enough for a supervised agent to come back on a loaded machine, short enough for the
        // host that never returns to fail quickly.
        BOOT_TIMEOUT_MS: '15000',
        // The old agent may answer with the old boot id for a moment before the supervisor kills it.
        SAME_BOOT_GRACE_MS: '3000',
      }),
    );
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await planner?.close();
  await Promise.all(Object.values(agents).map((a) => a.dispose()));
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

describe('a rollout over agent-backed hosts registered by address, run by real workers', () => {
  it('ends each host as its faults dictate, as the API and the hosts themselves say', async () => {
    // Topologies came from the agents.
    for (const role of Object.keys(HOSTS) as Role[]) {
      const host = (await planner.call('GET', `/v1/hosts/${HOSTS[role].hostId}`)).body;
      expect(host.topology.devices.map((d: { bdf: string }) => d.bdf), role).toContain(PRESERVED);
    }

    const created = await planner.call('POST', '/v1/rollouts', {
      body: { selector: `fleet=${FLEET}`, targetKernel: TARGET, maxConcurrent: 4, maxFailures: '100%', canary: { batches: ['100%'] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const rolloutId: string = created.body.rollout.id;

    // SIGKILL the agent while its preserve hook runs, then start it again at once (the workers'
    // driver retries the step; the agent waits for the orphaned hook before running it again).
    const crashes = agents.crashes;
    await waitFor('preserve to start on the crashing host', () => crashes.hookLog().some((l) => l.step === 'preserve' && l.what === 'start'), 120_000);
    await crashes.kill();
    const preserveAtKill = crashes.hookLog().filter((l) => l.step === 'preserve').map((l) => l.what);
    await crashes.start();

    await waitForAsync(
      `rollout ${rolloutId} to finish\n${workerOutput()}`,
      async () => {
        const view = await planner.call('GET', `/v1/rollouts/${rolloutId}`, { as: 'viewer' });
        return view.body.finishedAt !== undefined ? view.body : undefined;
      },
      180_000,
      250,
    );
    const page = await planner.call('GET', `/v1/rollouts/${rolloutId}/hosts?limit=100`, { as: 'viewer' });
    expect(page.status).toBe(200);
    const results = new Map<string, HostResult>(page.body.hosts.map((h: HostResult) => [h.hostId, h]));
    const result = (role: Role) => results.get(HOSTS[role].hostId)!;
    const context = `${JSON.stringify(page.body.hosts, null, 1)}\n${workerOutput()}`;
    expect(results.size, context).toBe(4);

    // Healthy: updated, on the new boot and the target kernel, devices retrieved.
    const healthy = agents.healthy;
    expect(result('healthy'), context).toMatchObject({ state: 'updated', outcome: 'updated' });
    expect(healthy.readSim('boot_id')).not.toBe(bootIdBefore.healthy);
    expect(healthy.readSim('osrelease')).toBe(TARGET);
    expect(JSON.parse(healthy.readSim('retrieved.json')!)).toEqual([PRESERVED]);
    expect(healthy.readSim('finished')).toBeDefined();
    expect(healthy.restarts).toBe(1);
    // Registration by address read the host's VMs (its `vms` query) before any step ran.
    expect(completedSteps(healthy)).toEqual(['vms', 'kexec_load', 'preserve', 'freeze', 'kexec', 'incoming', 'retrieve', 'finish']);

    // Preserve fails: rolled back by the undo hooks, still on its old boot and kernel.
    const fails = agents.failsPreserve;
    expect(result('failsPreserve'), context).toMatchObject({ state: 'rolled_back', outcome: 'rolled_back', phase: 'preserve' });
    expect(result('failsPreserve').error).toContain('VMM refused: vfio fd busy');
    expect(completedSteps(fails)).toEqual(['vms', 'kexec_load', 'unpreserve', 'kexec_unload']);
    expect(fails.readSim('staged-kernel')).toBeUndefined();
    expect(fails.readSim('preserved.json')).toBeUndefined();
    expect(fails.readSim('boot_id')).toBe(bootIdBefore.failsPreserve);
    expect(fails.readSim('osrelease')).toBe(OLD_KERNEL);
    expect(fails.restarts).toBe(0);

    // Never returns after kexec: failed, unreachable; there is no way back.
    const gone = agents.neverReturns;
    expect(result('neverReturns'), context).toMatchObject({ state: 'failed', outcome: 'failed', phase: 'await_boot' });
    expect(result('neverReturns').reasons, context).toContain('HOST_UNREACHABLE');
    expect(gone.running).toBe(false);
    expect(completedSteps(gone)).toEqual(['vms', 'kexec_load', 'preserve', 'freeze', 'kexec']);

    // Killed inside preserve and restarted: the step ran again once the orphaned hook ended; updated.
    expect(preserveAtKill).toEqual(['start']);
    expect(result('crashes'), context).toMatchObject({ state: 'updated', outcome: 'updated' });
    expect(crashes.readSim('boot_id')).not.toBe(bootIdBefore.crashes);
    expect(crashes.readSim('osrelease')).toBe(TARGET);
    expect(JSON.parse(crashes.readSim('retrieved.json')!)).toEqual([PRESERVED]);
    expect(crashes.hookLog().filter((l) => l.step === 'preserve').map((l) => l.what)).toEqual(['start', 'ok', 'start', 'ok']);

    // kexec was issued once per host that got that far, never again.
    for (const role of ['healthy', 'neverReturns', 'crashes'] as const) {
      expect(agents[role].hookLog().filter((l) => l.step === 'kexec' && l.what === 'start'), role).toHaveLength(1);
    }
  }, 300_000);
});
