import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import type { HostResult } from '@luo-fleet/store';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { freePort } from '../agent/support/agent-host';
import { startApp, waitFor, type AppProcess } from '../support/app-process';
import { TEST_REDIS_URL } from '../support/redis-namespace';
import { AGENT_START_MS, QemuGuest, sleep } from './support/qemu-guest';
import { vmEntry } from './support/guest-handover';

/*
 * The whole path with a real kernel: a QEMU guest registered through the planner API by its
 * agent's address, rollouts created with POST /v1/rollouts and run by real worker processes, the
 * guest kexecing for real. Then the kexec fence: every worker SIGKILLed right after the kexec was
 * issued; the next worker decides by boot id and the guest is never kexeced twice.
 */

const kernel = inject('luoKernel');
const HOST = 'guest-api';
const VMS = ['vm-a', 'vm-b'];

let guest: QemuGuest;
let planner: PlannerUnderTest;
let secretsDir: string;
let metrics: AppProcess;
let metricsUrl: string;
const workers: AppProcess[] = [];

function startWorker(): AppProcess {
  const worker = startApp('worker', {
    REDIS_URL: TEST_REDIS_URL,
    LUO_FLEET_PREFIX: planner.prefix,
    AGENT_SECRETS_DIR: secretsDir,
    AGENT_TIMEOUT_MS: '5000',
    AGENT_RETRIES: '4',
    AGENT_RETRY_DELAY_MS: '500',
    COORDINATOR_TICK_MS: '50',
    // A killed worker's job and lease are picked up within a few seconds.
    LEASE_TTL_MS: '3000',
    JOB_LOCK_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    BOOT_POLL_MS: '250',
    BOOT_TIMEOUT_MS: '180000',
    SAME_BOOT_GRACE_MS: '15000',
  });
  workers.push(worker);
  return worker;
}

function context(): string {
  return `${workers.map((w, i) => `--- worker ${i} ---\n${w.output().slice(-3000)}`).join('\n')}\n--- guest ---\n${guest.tail(60)}`;
}

async function rollout(): Promise<string> {
  const created = await planner.call('POST', '/v1/rollouts', {
    body: { selector: `host=${HOST}`, targetKernel: kernel.release, maxConcurrent: 1, maxFailures: '100%', canary: { batches: ['100%'] } },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.rollout.id;
}

async function finished(rolloutId: string): Promise<HostResult> {
  await waitFor(
    `rollout ${rolloutId} to finish\n${context()}`,
    async () => {
      const view = await planner.call('GET', `/v1/rollouts/${rolloutId}`, { as: 'viewer' });
      return view.body.finishedAt !== undefined;
    },
    240_000,
    500,
  );
  const page = await planner.call('GET', `/v1/rollouts/${rolloutId}/hosts?limit=10`, { as: 'viewer' });
  return page.body.hosts.find((h: HostResult) => h.hostId === HOST);
}

/** Step records the guest's agent wrote for kexec (one file per requestId). */
function kexecRecords(): { requestId: string; state: string }[] {
  const dir = join(guest.share, 'state/requests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'kexec-fence.json')
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .filter((r) => r.step === 'kexec');
}

const kexecs = () => guest.lines.filter((l) => /kexec_core: Starting new kernel/.test(l.text)).length;

async function metricsText(): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`).catch(() => undefined);
  return res?.ok ? res.text() : '';
}

beforeAll(async () => {
  guest = new QemuGuest({ name: 'rollout-live-update', hostId: HOST, kernel, vms: VMS.map((id) => ({ id, sizeMiB: 8, backing: 'shmem' as const })) });
  await guest.start();
  await guest.waitForAgent(AGENT_START_MS);
  secretsDir = mkdtempSync(join(tmpdir(), 'luo-kernel-secrets-'));
  writeFileSync(join(secretsDir, HOST), `${guest.secret.toString()}\n`, { mode: 0o600 });
  planner = await startPlanner({ AGENT_SECRETS_DIR: secretsDir });
  const registered = await planner.call('POST', '/v1/hosts', { body: { id: HOST, labels: { host: HOST, rack: 'r1', zone: 'z1' }, driver: { kind: 'agent', url: guest.url } } });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  startWorker();
  startWorker();
  const port = await freePort('127.0.0.1');
  metricsUrl = `http://127.0.0.1:${port}`;
  metrics = startApp('metrics', { REDIS_URL: TEST_REDIS_URL, LUO_FLEET_PREFIX: planner.prefix, METRICS_HOST: '127.0.0.1', METRICS_PORT: String(port) });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await metrics?.kill();
  await planner?.close();
  await guest?.dispose();
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

describe('a real Live Update of a QEMU guest through the API and real workers', () => {
  it('registers the guest by address, kexecs it once, brings its VMs back on their memory; updated and counted', async () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    const host = (await planner.call('GET', `/v1/hosts/${HOST}`)).body;
    expect(host.topology.devices.length).toBeGreaterThan(0);
    const before = await guest.driver().identity();

    const result = await finished(await rollout());

    expect(result, context()).toMatchObject({ state: 'updated', outcome: 'updated' });
    const after = await guest.driver().identity();
    expect(after.bootId).not.toBe(before.bootId);
    expect(after.kernelRelease).toBe(kernel.release);
    expect(kexecs()).toBe(1);
    for (const id of VMS) expect(vmEntry(guest, id), id).toMatchObject({ boot: 'restored', patternIntact: true });
    const text = await waitFor('metrics to count the update', async () => {
      const body = await metricsText();
      return /luo_fleet_handovers_total\{[^}]*outcome="updated"[^}]*\} 1\b/.test(body) ? body : undefined;
    }, 30_000, 250);
    for (const phase of ['preserve', 'kexec', 'await_boot', 'retrieve', 'finish']) expect(text).toMatch(new RegExp(`luo_fleet_phase_duration_seconds_count\\{phase="${phase}"\\} 1\\b`));
    expect(text).toMatch(/luo_fleet_blackout_seconds_count 1\b/);
  });

  it('the kexec fence: workers SIGKILLed right after the kexec was issued; the next one decides by boot id, no second kexec', async () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    const before = await guest.driver().identity();
    const kexecsBefore = kexecs();
    const recordsBefore = kexecRecords().length;

    const id = await rollout();
    await waitFor('the kexec step to be issued', async () => kexecRecords().length > recordsBefore, 180_000, 20);
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await sleep(500);
    startWorker();
    const result = await finished(id);

    expect(result, context()).toMatchObject({ state: 'updated', outcome: 'updated' });
    expect((await guest.driver().identity()).bootId).not.toBe(before.bootId);
    expect(kexecs() - kexecsBefore).toBe(1);
    expect(kexecRecords()).toHaveLength(recordsBefore + 1);
    for (const vm of VMS) expect(vmEntry(guest, vm), vm).toMatchObject({ boot: 'restored', patternIntact: true });
  });
});
