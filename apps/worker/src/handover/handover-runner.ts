import type { RedisClient } from '@luo-fleet/redis';
import { runHandover, type HandoverMachineOptions, type HostDriver, type OutcomeEntry } from '@luo-fleet/handover';
import { type FleetKeys } from '@luo-fleet/redis';
import { FleetCapacity, HostLease, InventoryStore, HostLeaseBatch, JournalGroupCommit, RedisHandoverJournal, type OutcomeCount } from '@luo-fleet/store';
import { type HandoverJobData } from '@luo-fleet/jobs';

export interface HandoverRunnerSettings {
  leaseTtlMs: number;
  machine: HandoverMachineOptions;
}

/** The host is held by another handover: try again later, without spending an attempt. */
export class HostBusyError extends Error {
  override name = 'HostBusyError';
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface HandoverRun {
  outcome: OutcomeEntry;
  /** How the outcome was counted in its rollout, where it was recorded: 'first' when that freed the host's slot. */
  counted?: OutcomeCount;
}

/**
 * One handover job, framework-free: take the host's lease, run (or resume) the phase machine on
 * the Redis journal, keep the lease alive while it runs, and give the lease back.
 */
export class HandoverRunner {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    private readonly driverFor: (job: HandoverJobData) => HostDriver,
    private readonly settings: HandoverRunnerSettings,
    /** The rollout's status, asked before each pre-kexec step so an abort rolls the host back. */
    private readonly rolloutStatus: (rolloutId: string) => Promise<string | null> = async () => null,
  ) {
    this.groupCommit = new JournalGroupCommit(redis, keys);
    this.leases = new HostLeaseBatch(redis);
    this.inventory = new InventoryStore(redis, keys.prefix);
    this.fleet = new FleetCapacity(redis, keys);
  }

  /**
   * Asked before every pre-kexec step of every host: one read per rollout per second is enough,
   * an abort reaching a host a second late changes nothing.
   */
  private readonly statusSeen = new Map<string, { status: string | null; at: number }>();
  private readonly indexedRollouts = new Set<string>();
  /** Every handover of this process writes its journal through it: one script run per turn and rollout. */
  private readonly groupCommit: JournalGroupCommit;
  private readonly leases: HostLeaseBatch;
  private readonly inventory: InventoryStore;
  private readonly fleet: FleetCapacity;

  private async abortRequested(rolloutId: string): Promise<boolean> {
    const seen = this.statusSeen.get(rolloutId);
    if (seen && Date.now() - seen.at < 1_000) return seen.status === 'aborted';
    const status = await this.rolloutStatus(rolloutId);
    this.statusSeen.set(rolloutId, { status, at: Date.now() });
    return status === 'aborted';
  }

  async run(job: HandoverJobData): Promise<HandoverRun> {
    const { plan } = job;
    const lease = new HostLease(this.redis, this.keys, plan.hostId, plan.rolloutId, this.settings.leaseTtlMs, this.leases);
    if (!(await lease.acquire())) throw new HostBusyError(`host ${plan.hostId} is in another handover`);
    const renewal = setInterval(() => {
      lease.renew().catch(() => undefined);
    }, Math.max(100, Math.floor(this.settings.leaseTtlMs / 3)));
    let journal: RedisHandoverJournal | undefined;
    try {
      if (!this.indexedRollouts.has(plan.rolloutId)) {
        // Once per rollout per process: the metrics app finds the rollout's counters through it.
        await this.redis.sadd(this.keys.rolloutIndex(), plan.rolloutId);
        this.indexedRollouts.add(plan.rolloutId);
      }
      journal = new RedisHandoverJournal(this.redis, this.keys, plan.rolloutId, plan.hostId, {
        leaseToken: lease.token,
        installLeaseCopyMs: lease.ttlMs,
        countOutcomes: true,
        groupCommit: this.groupCommit,
      });
      const outcome = await runHandover(this.driverFor(job), journal, plan, {
        ...this.settings.machine,
        checkpoint: () => {
          if (lease.isLost) throw new LeaseLostError(`lease on ${plan.hostId} lost`);
        },
        abortRequested: () => this.abortRequested(plan.rolloutId),
      });
      await this.ended(plan.rolloutId, plan.hostId, plan.strategy === 'evacuate', outcome);
      return { outcome, counted: journal.outcomeCount };
    } finally {
      clearInterval(renewal);
      // Writing the outcome dropped the journal's copy of the lease. Not awaited: the job's
      // completion then goes out in the same turn, not a round trip later. Giving the lease back is
      // best effort either way (its expiry frees the host if this is lost), and a handover of the
      // same host that comes in between waits a second and tries again (HostBusyError).
      void lease.release({ journalCopyDropped: journal?.leaseCopyDropped }).catch(() => undefined);
    }
  }

  /**
   * After a host's outcome is journaled: the inventory shows the VMs an evacuation moved on their
   * targets, and only then is their room given back (they count as load there before their
   * reservation goes, never neither; kept when which VMs moved is unknown); an updated host is on
   * its new kernel; a host that ended other than failed may take evacuated VMs. All are
   * idempotent: a job redelivered after a crash finds the outcome in the journal and does them again.
   */
  private async ended(rolloutId: string, hostId: string, evacuated: boolean, outcome: OutcomeEntry): Promise<void> {
    if (evacuated) {
      await this.inventory.moveVms(hostId, outcome.migrations ?? []);
      // Which VMs a drain that could not say moved is unknown: the room stays held on every target.
      if (!outcome.migrationsUnknown) await this.fleet.release(rolloutId, hostId);
    }
    await this.fleet.hostEnded(rolloutId, hostId, outcome);
  }
}
