import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan } from '@luo-fleet/handover';
import { runHandover, type HandoverMachineOptions } from '@luo-fleet/handover';
import { InMemoryHandoverJournal } from '@luo-fleet/handover';
import { AgentHostDriver } from '@luo-fleet/handover';
import { AgentHost, waitFor, sleep, type AgentHostOptions } from './support/agent-host';

const TARGET = '6.18.0-luo2';
const PRESERVED = '0000:01:00.0';
const MACHINE: HandoverMachineOptions = { bootPollMs: 200, bootTimeoutMs: 20_000, sameBootGraceMs: 4_000, stepTimeoutMs: 60_000 };

async function handOver(host: AgentHost, machine: HandoverMachineOptions = MACHINE, driverRetries = 3) {
  const driver = new AgentHostDriver({ url: host.url, hostId: host.options.hostId, secret: host.secret, timeoutMs: 5_000, stepTimeoutMs: 45_000, retries: driverRetries, retryDelayMs: 400 });
  const topology = await driver.topology();
  const preservationSet = buildPreservationSet(topology, undefined);
  const plan = buildHandoverPlan({ hostId: host.options.hostId, rolloutId: 'r-agent', targetKernel: TARGET, topology, preservationSet });
  const journal = new InMemoryHandoverJournal();
  const bootIdBefore = host.readSim('boot_id');
  const started = Date.now();
  const outcome = await runHandover(driver, journal, plan, machine);
  return { outcome, plan, journal, bootIdBefore, elapsedMs: Date.now() - started };
}

/** Hooks that ran to the end, in order, for this handover. */
function completedSteps(host: AgentHost): string[] {
  return host.hookLog().filter((l) => l.what === 'ok').map((l) => l.step);
}

describe('handover through AgentHostDriver against real agent processes', () => {
  const hosts: AgentHost[] = [];
  const make = async (hostId: string, address: string, extra: Partial<AgentHostOptions> = {}) => {
    const host = await AgentHost.create({ hostId, address, ...extra });
    hosts.push(host);
    return host;
  };
  let healthy: AgentHost;
  let failsPreserve: AgentHost;
  let neverReturns: AgentHost;
  let crashesInPreserve: AgentHost;

  beforeAll(async () => {
    [healthy, failsPreserve, neverReturns, crashesInPreserve] = await Promise.all([
      make('hv-healthy', '127.0.0.2'),
      make('hv-preserve-fails', '127.0.0.3'),
      make('hv-never-returns', '127.0.0.4'),
      make('hv-crashes', '127.0.0.5'),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.dispose()));
  });

  it('a healthy host ends updated: new boot id, target kernel, devices retrieved, as its own files say', async () => {
    const { outcome, bootIdBefore } = await handOver(healthy);
    expect(outcome.outcome, outcome.error).toBe('updated');
    expect(outcome.kernelRelease).toBe(TARGET);
    expect(outcome.bootId).not.toBe(bootIdBefore);
    expect(healthy.restarts).toBe(1);
    expect(healthy.readSim('boot_id')).toBe(outcome.bootId);
    expect(healthy.readSim('osrelease')).toBe(TARGET);
    expect(JSON.parse(healthy.readSim('retrieved.json')!)).toEqual([PRESERVED]);
    expect(healthy.readSim('finished')).toBe('r-agent.hv-healthy');
    expect(healthy.readSim('paused')).toBeUndefined();
    expect(completedSteps(healthy)).toEqual(['kexec_load', 'preserve', 'freeze', 'kexec', 'incoming', 'retrieve', 'finish']);
  }, 90_000);

  it('a host whose preserve hook fails is rolled back with the undo hooks run, on its old kernel', async () => {
    failsPreserve.fault('fail-preserve', 'VMM refused: vfio fd busy');
    const { outcome, bootIdBefore } = await handOver(failsPreserve);
    expect(outcome.outcome).toBe('rolled_back');
    expect(outcome.phase).toBe('preserve');
    expect(outcome.error).toContain('VMM refused: vfio fd busy');
    expect(completedSteps(failsPreserve)).toEqual(['kexec_load', 'unpreserve', 'kexec_unload']);
    expect(failsPreserve.readSim('staged-kernel')).toBeUndefined();
    expect(failsPreserve.readSim('preserved.json')).toBeUndefined();
    expect(failsPreserve.readSim('boot_id')).toBe(bootIdBefore);
    expect(failsPreserve.readSim('osrelease')).toBe('6.12.0-luo1');
    expect(failsPreserve.restarts).toBe(0);
  }, 90_000);

  it('a host whose agent never returns after kexec ends failed (HOST_UNREACHABLE) within the boot timeout', async () => {
    neverReturns.fault('never-return');
    const bootTimeoutMs = 4_000;
    const { outcome, elapsedMs } = await handOver(neverReturns, { ...MACHINE, bootTimeoutMs }, 1);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.phase).toBe('await_boot');
    expect(outcome.reasons).toContain('HOST_UNREACHABLE');
    expect(neverReturns.running).toBe(false);
    expect(completedSteps(neverReturns)).toEqual(['kexec_load', 'preserve', 'freeze', 'kexec']);
    // Boot timeout plus the pre-kexec steps and one last identity poll: far from a hang.
    expect(elapsedMs).toBeLessThan(bootTimeoutMs + 20_000);
  }, 90_000);

  it('a host whose agent is SIGKILLed and restarted in the middle of preserve still completes', async () => {
    crashesInPreserve.fault('delay-preserve', '2500');
    const run = handOver(crashesInPreserve, MACHINE, 8);
    await waitFor('preserve to start', () => crashesInPreserve.hookLog().some((l) => l.step === 'preserve' && l.what === 'start'), 60_000);
    await crashesInPreserve.kill();
    await sleep(300);
    await crashesInPreserve.start();
    const { outcome } = await run;
    expect(outcome.outcome, outcome.error).toBe('updated');
    expect(crashesInPreserve.readSim('osrelease')).toBe(TARGET);
    expect(JSON.parse(crashesInPreserve.readSim('retrieved.json')!)).toEqual([PRESERVED]);
    // The repeated request waited for the orphaned first run to end before running the hook again:
    // never two preserve hooks at once.
    const preserve = crashesInPreserve.hookLog().filter((l) => l.step === 'preserve');
    expect(preserve.map((l) => l.what)).toEqual(['start', 'ok', 'start', 'ok']);
    expect(new Set(preserve.map((l) => l.requestId))).toEqual(new Set(['r-agent.hv-crashes/preserve']));
  }, 120_000);
});
