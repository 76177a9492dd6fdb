import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlanner, type PlannerUnderTest } from '../planner/planner-harness';
import { AgentHost } from './support/agent-host';

/*
 * The agent's `vms` hook (deploy/agent/README.md): GET /v1/vms runs it and checks what it prints with
 * the planner's VM schema; registration by address stores those VMs with the topology.
 */

const LABELS = { rack: 'r1', zone: 'z1' };
const VM = { id: 'vm-a', devices: ['01:00.0'], memory: { backing: 'memfd-hugetlb', sizeMiB: 8192 }, balloon: false, virtioMem: false, migratable: true };

let agent: AgentHost;
let bare: AgentHost;
let planner: PlannerUnderTest;
let secretsDir: string;

beforeAll(async () => {
  [agent, bare] = await Promise.all([
    AgentHost.create({ hostId: 'hv-vms', address: '127.0.0.41' }),
    AgentHost.create({ hostId: 'hv-novms', address: '127.0.0.42', omitHooks: ['vms'] }),
  ]);
  secretsDir = mkdtempSync(join(tmpdir(), 'luo-planner-secrets-'));
  writeFileSync(join(secretsDir, 'hv-vms'), agent.secret, { mode: 0o600 });
  writeFileSync(join(secretsDir, 'hv-novms'), bare.secret, { mode: 0o600 });
  planner = await startPlanner({ AGENT_SECRETS_DIR: secretsDir, AGENT_TIMEOUT_MS: '3000' });
}, 120_000);

afterAll(async () => {
  await planner?.close();
  await Promise.all([agent?.dispose(), bare?.dispose()]);
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

const vmsOf = async (host: AgentHost) => (await (await host.signedFetch('GET', '/v1/vms')).json()) as { problem?: string };

describe('GET /v1/vms', () => {
  it('answers the VMs the hook prints, BDFs in full form; none when the simulated VMM has no vms.json', async () => {
    rmSync(agent.sim('vms.json'), { force: true });
    expect(await vmsOf(agent)).toMatchObject({ ok: true, configured: true, vms: [] });
    agent.fault('vms.json', JSON.stringify([VM]));
    expect(await vmsOf(agent)).toMatchObject({ ok: true, configured: true, vms: [{ ...VM, devices: ['0000:01:00.0'] }] });
  });

  it('answers ok: false naming the wrong field when the hook prints a bad list, and when it fails', async () => {
    agent.fault('vms.json', JSON.stringify([{ ...VM, memory: { backing: 'tmpfs', sizeMiB: 0 } }]));
    const bad = await vmsOf(agent);
    expect(bad).toMatchObject({ ok: false, configured: true });
    expect(bad.problem).toMatch(/vms\[0\]\.memory\.backing/);
    expect(bad.problem).toMatch(/vms\[0\]\.memory\.sizeMiB/);
    agent.fault('fail-vms', 'vmm not running');
    expect(await vmsOf(agent)).toMatchObject({ ok: false, configured: true, problem: 'the vms hook failed' });
    rmSync(agent.sim('fail-vms'));
  });

  it('answers configured: false without a vms hook', async () => {
    expect(await vmsOf(bare)).toMatchObject({ ok: true, configured: false });
  });
});

describe('registration by agent address', () => {
  it("stores the VMs the agent reports with its topology, and a refresh picks up the VMM's changes", async () => {
    agent.fault('vms.json', JSON.stringify([VM]));
    const res = await planner.call('POST', '/v1/hosts', { body: { id: 'hv-vms', labels: LABELS, driver: { kind: 'agent', url: agent.url } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.host).toMatchObject({ vms: 1 });
    expect((await planner.call('GET', '/v1/hosts/hv-vms')).body.vms).toEqual([{ ...VM, devices: ['0000:01:00.0'] }]);

    agent.fault('vms.json', JSON.stringify([VM, { ...VM, id: 'vm-b', devices: [] }]));
    const refreshed = await planner.call('POST', '/v1/hosts/hv-vms/topology:refresh');
    expect(refreshed.body).toMatchObject({ changed: true, host: { vms: 2 } });
  });

  it('keeps the VMs sent in the body rather than asking the agent', async () => {
    agent.fault('vms.json', JSON.stringify([VM]));
    const sent = [{ ...VM, id: 'vm-sent', devices: [] }];
    const res = await planner.call('POST', '/v1/hosts', { body: { id: 'hv-vms', labels: LABELS, driver: { kind: 'agent', url: agent.url }, vms: sent } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await planner.call('GET', '/v1/hosts/hv-vms')).body.vms).toEqual(sent);
  });

  it('refuses, naming driver.url, VMs that hold a device the host does not have or a failing hook; stores nothing', async () => {
    await planner.call('DELETE', '/v1/hosts/hv-vms');
    agent.fault('vms.json', JSON.stringify([{ ...VM, devices: ['0000:5e:00.0'] }]));
    const unknown = await planner.call('POST', '/v1/hosts', { body: { id: 'hv-vms', labels: LABELS, driver: { kind: 'agent', url: agent.url } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringMatching(/vms\[0\]\.devices\[0\]: 0000:5e:00\.0 is not a PCI device of this host/) }]);

    agent.fault('fail-vms', 'vmm not running');
    const failing = await planner.call('POST', '/v1/hosts', { body: { id: 'hv-vms', labels: LABELS, driver: { kind: 'agent', url: agent.url } } });
    expect(failing.status).toBe(400);
    expect(failing.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('vms hook on hv-vms failed') }]);
    rmSync(agent.sim('fail-vms'));
    expect((await planner.call('GET', '/v1/hosts/hv-vms')).status).toBe(404);
  });

  it('registers a host whose agent has no vms hook without VMs', async () => {
    const res = await planner.call('POST', '/v1/hosts', { body: { id: 'hv-novms', labels: LABELS, driver: { kind: 'agent', url: bare.url } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.host).toMatchObject({ vms: 0 });
  });
});
