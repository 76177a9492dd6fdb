import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, type HandoverPlan, type OutcomeEntry } from '@luo-fleet/handover';
import { createSimulatedHost, RedisSimulatedHostStore, type FaultPlan, type SimulatedHostState } from '@luo-fleet/simulated-host';
import { FleetKeys } from '@luo-fleet/redis';
import { openHandoverJobs, type BullHandoverJobs } from '@luo-fleet/jobs';
import { RedisHandoverJournal } from '@luo-fleet/store';
import { foldJournal, type JournalEntry } from '@luo-fleet/handover';
import { TEST_REDIS_URL, type RedisNamespace } from '../support/redis-namespace';
import { startApp, waitFor, type AppProcess } from '../support/app-process';
import { eligibleGpuHostTopology } from '../support/eligible-host';

export const OLD_KERNEL = '6.12.0-lts';
export const TARGET_KERNEL = '6.18.3-luo';


export class HandoverHarness {
  readonly keys: FleetKeys;
  readonly store: RedisSimulatedHostStore;
  readonly jobs: BullHandoverJobs;
  readonly workers: AppProcess[] = [];

  constructor(readonly ns: RedisNamespace) {
    this.keys = new FleetKeys(ns.prefix);
    this.store = new RedisSimulatedHostStore(ns.redis, ns.prefix);
    // Quicker, steadier retries than a fleet's, and finished jobs kept.
    this.jobs = openHandoverJobs({ url: TEST_REDIS_URL }, this.keys.bullPrefix(), { attempts: 50, backoff: { type: 'fixed', delay: 200 } });
  }

  async host(hostId: string, faults: FaultPlan = {}, rolloutId = 'r1'): Promise<HandoverPlan> {
    const topology = eligibleGpuHostTopology();
    await createSimulatedHost(this.store, { hostId, seed: 7, topology, kernelRelease: OLD_KERNEL, faults });
    return buildHandoverPlan({
      hostId,
      rolloutId,
      targetKernel: TARGET_KERNEL,
      topology,
      preservationSet: buildPreservationSet(topology, undefined),
    });
  }

  async enqueue(plan: HandoverPlan): Promise<void> {
    await this.jobs.enqueue([{ plan, driver: { kind: 'simulated' } }]);
  }

  startWorker(env: Record<string, string> = {}): AppProcess {
    const w = startApp('worker', {
      REDIS_URL: TEST_REDIS_URL,
      LUO_FLEET_PREFIX: this.ns.prefix,
      WORKER_CONCURRENCY: '20',
      LEASE_TTL_MS: '1500',
      JOB_LOCK_MS: '1500',
      STALLED_INTERVAL_MS: '500',
      BOOT_POLL_MS: '20',
      BOOT_TIMEOUT_MS: '3000',
      SAME_BOOT_GRACE_MS: '300',
      STEP_TIMEOUT_MS: '3000',
      SIM_FIXED_LATENCY_MS: '0',
      ...env,
    });
    this.workers.push(w);
    return w;
  }

  journal(plan: HandoverPlan): Promise<JournalEntry[]> {
    return new RedisHandoverJournal(this.ns.redis, this.keys, plan.rolloutId, plan.hostId).load(plan.handoverId);
  }

  async outcome(plan: HandoverPlan, timeoutMs = 30_000): Promise<OutcomeEntry> {
    return waitFor(`outcome of ${plan.hostId}`, async () => foldJournal(await this.journal(plan)).outcome, timeoutMs);
  }

  async hostState(hostId: string): Promise<SimulatedHostState> {
    const s = await this.store.load(hostId);
    if (!s) throw new Error(`no simulated host ${hostId}`);
    return s;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill('SIGKILL')));
    await this.jobs.close();
  }
}

export function undoSteps(entries: JournalEntry[]): string[] {
  return entries.flatMap((e) =>
    e.type === 'step_end' && ['thaw', 'unpreserve', 'kexec_unload'].includes(e.step) ? [e.step] : [],
  );
}
