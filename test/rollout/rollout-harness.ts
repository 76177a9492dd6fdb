import { createSimulatedHost, RedisSimulatedHostStore, type FaultPlan } from '@luo-fleet/simulated-host';
import { createRollout, type RolloutCreation } from '../../apps/planner/src/rollouts/rollout-creation';
import { simulatedHostRegistration } from '../../apps/planner/src/rollouts/simulated-host-registration';
import { FleetKeys } from '@luo-fleet/redis';
import { InventoryStore, RolloutStore, type RolloutView } from '@luo-fleet/store';
import { openRolloutJobs, type BullRolloutJobs } from '@luo-fleet/jobs';
import type { RolloutSpec } from '@luo-fleet/rollout';
import { TEST_REDIS_URL, type RedisNamespace } from '../support/redis-namespace';
import { startApp, waitFor, type AppProcess } from '../support/app-process';
import { eligibleGpuHostTopology } from '../support/eligible-host';

export const TARGET = '6.18.0-luo';


/** A simulated fleet in the inventory, real worker processes, and rollouts created as the planner does. */
export class RolloutHarness {
  readonly keys: FleetKeys;
  readonly inventory: InventoryStore;
  readonly rollouts: RolloutStore;
  readonly simulated: RedisSimulatedHostStore;
  readonly coordinatorJobs: BullRolloutJobs;
  workers: AppProcess[] = [];

  constructor(
    readonly ns: RedisNamespace,
    private readonly workerEnv: Record<string, string> = {},
  ) {
    this.keys = new FleetKeys(ns.prefix);
    this.inventory = new InventoryStore(ns.redis, ns.prefix);
    this.rollouts = new RolloutStore(ns.redis, this.keys);
    this.simulated = new RedisSimulatedHostStore(ns.redis, ns.prefix);
    this.coordinatorJobs = openRolloutJobs({ url: TEST_REDIS_URL }, this.keys.bullPrefix());
  }

  /** Registers `count` hosts labelled fleet=<fleet>, spread over `racks` racks; `faults` by host index. */
  async fleet(fleet: string, count: number, racks: number, faults: Record<number, FaultPlan> = {}): Promise<string[]> {
    const ids: string[] = [];
    const hosts = [];
    for (let i = 0; i < count; i++) {
      const id = `${fleet}-${String(i).padStart(3, '0')}`;
      ids.push(id);
      const topology = eligibleGpuHostTopology();
      hosts.push({ id, labels: { fleet, rack: `rack-${i % racks}`, zone: 'zone-1' }, driver: { kind: 'simulated' as const }, topology });
      if (faults[i]) await createSimulatedHost(this.simulated, { hostId: id, seed: 1, topology, kernelRelease: '6.12.0-lts', faults: faults[i] });
    }
    await this.inventory.putMany(hosts);
    return ids;
  }

  async create(spec: Partial<RolloutSpec> & { selector: string }, opts: { enqueue?: boolean } = {}): Promise<RolloutCreation> {
    const now = Date.now();
    const full: RolloutSpec = {
      targetKernel: TARGET,
      profile: 'singleton-group',
      strictAcs: false,
      window: { startAt: now, endAt: now + 3_600_000, cutoffAt: now + 3_000_000 },
      maxConcurrent: 5,
      maxFailures: 100,
      canary: { batches: [], requireApproval: false },
      dryRun: false,
      ...spec,
    };
    return createRollout(
      {
        redis: this.ns.redis,
        keys: this.keys,
        inventory: this.inventory,
        rollouts: this.rollouts,
        hostRegistration: { simulated: simulatedHostRegistration(this.simulated) },
        enqueueCoordinator: async (id, delay) => {
          if (opts.enqueue === false) return;
          await this.coordinatorJobs.enqueue(id, delay);
        },
      },
      full,
      { createdBy: 'test', now, seed: 3 },
    );
  }

  startWorkers(n: number, env: Record<string, string> = {}): void {
    for (let i = 0; i < n; i++) {
      this.workers.push(
        startApp('worker', {
          REDIS_URL: TEST_REDIS_URL,
          LUO_FLEET_PREFIX: this.ns.prefix,
          WORKER_CONCURRENCY: '50',
          LEASE_TTL_MS: '1500',
          JOB_LOCK_MS: '1500',
          STALLED_INTERVAL_MS: '500',
          BOOT_POLL_MS: '20',
          BOOT_TIMEOUT_MS: '3000',
          SAME_BOOT_GRACE_MS: '300',
          COORDINATOR_TICK_MS: '20',
          COORDINATOR_WATCHDOG_MS: '300',
          SIM_FIXED_LATENCY_MS: '20',
          ...this.workerEnv,
          ...env,
        }),
      );
    }
  }

  async killWorkers(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill(signal)));
    this.workers = [];
  }

  view(id: string): Promise<RolloutView> {
    return this.rollouts.get(id).then((v) => {
      if (!v) throw new Error(`rollout ${id} missing`);
      return v;
    });
  }

  async finished(id: string, timeoutMs = 60_000): Promise<RolloutView> {
    return waitFor(`rollout ${id} to finish`, async () => {
      const v = await this.view(id);
      return v.finishedAt !== undefined ? v : undefined;
    }, timeoutMs, 50);
  }

  /** Every host's state, from the rollout's own records. */
  async states(id: string): Promise<Record<string, string>> {
    return this.ns.redis.hgetall(this.keys.hostStates(id));
  }

  async close(): Promise<void> {
    await this.killWorkers();
    await this.coordinatorJobs.close();
  }
}

export const OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'];
export const IN_FLIGHT = (state: string) => !OUTCOMES.includes(state) && state !== 'pending';
