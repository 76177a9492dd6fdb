import { foldJournal, handoverIdOf } from '@luo-fleet/handover';
import { failureDomainKey, TERMINAL_ROLLOUT_STATUSES, type RolloutStatus } from '@luo-fleet/rollout';
import { compactFinishedRollout, RedisHandoverJournal, type RolloutStore } from '@luo-fleet/store';
import type { HandoverJobState, HandoverJobs } from '@luo-fleet/jobs';
import type { FleetKeys, RedisClient } from '@luo-fleet/redis';
import type { HandoverOrder } from '@luo-fleet/handover';
import type { Rollout } from '@luo-fleet/rollout';
import type { EvacuationPlacement, EvacuationSpec } from './evacuation-placement';

export interface CoordinatorSettings {
  /** How often the loop looks at the rollout when no handover finished in between. */
  tickMs: number;
  /** Admitted hosts older than this are checked for a lost job. */
  reconcileAfterMs: number;
  reconcileEveryMs: number;
}

const CANCEL_REASON: Partial<Record<RolloutStatus, string>> = {
  halted: 'rollout halted: failure budget exceeded before this host started',
  aborted: 'rollout aborted before this host started',
  expired: 'cutoff passed before this host started',
};

/** A handover whose job is in one of these states will still be run: reconciliation leaves it alone. */
const LIVE_JOB_STATES: readonly HandoverJobState[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];

/**
 * Moves one rollout through its hosts: admits what its limits allow (atomically, in Redis),
 * enqueues their handovers, advances canary batches, cancels what will never start, and repairs
 * what a crash lost. Plain TypeScript on the HandoverJobs port; the BullMQ processor only calls `drive`.
 */
export class RolloutCoordinator {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    private readonly store: RolloutStore,
    private readonly handovers: HandoverJobs,
    private readonly settings: CoordinatorSettings,
    private readonly placement?: EvacuationPlacement,
  ) {}

  /** What evacuations need from the rollout's spec; null when it allows none (nothing more is read or done). */
  private readonly evacuations = new Map<string, (EvacuationSpec & { cutoffAt: number }) | null>();

  private async evacuationsOf(rolloutId: string): Promise<(EvacuationSpec & { cutoffAt: number }) | null> {
    if (!this.placement) return null;
    if (!this.evacuations.has(rolloutId)) {
      const raw = await this.redis.get(this.keys.rollout(rolloutId));
      const spec = raw === null ? undefined : (JSON.parse(raw) as Rollout).spec;
      const allows = spec?.strategies?.includes('evacuate') === true;
      this.evacuations.set(
        rolloutId,
        allows
          ? { sameDomain: spec!.evacuation?.sameDomain === true, domainKey: failureDomainKey(spec!), targetKernel: spec!.targetKernel, cutoffAt: spec!.window.cutoffAt }
          : null,
      );
    }
    return this.evacuations.get(rolloutId)!;
  }

  /** Jobs ready to run: evacuations get their targets first, or wait for room. */
  private async placed(rolloutId: string, jobs: HandoverOrder[]): Promise<HandoverOrder[]> {
    const evac = await this.evacuationsOf(rolloutId);
    return evac && this.placement ? this.placement.place(rolloutId, jobs, evac) : jobs;
  }

  /**
   * Hosts waiting for room: tried again while the rollout runs; at the cutoff, or once it halted
   * or was aborted, they end `skipped` with NO_CAPACITY.
   */
  private async retryWaiting(rolloutId: string, status: RolloutStatus): Promise<void> {
    const evac = await this.evacuationsOf(rolloutId);
    if (!evac) return;
    const waiting = await this.store.waiting(rolloutId);
    if (waiting.length === 0) return;
    if (Date.now() >= evac.cutoffAt || TERMINAL_ROLLOUT_STATUSES.includes(status)) {
      const error = Date.now() >= evac.cutoffAt ? 'cutoff passed with no room elsewhere for its VMs' : `rollout ${status} while its VMs had no room elsewhere`;
      await this.store.endUnstarted(rolloutId, waiting, { outcome: 'skipped', reasons: ['NO_CAPACITY'], error, strategy: 'evacuate' });
      return;
    }
    if (status !== 'running') return;
    const ready = await this.placed(rolloutId, await this.store.jobsOf(rolloutId, waiting));
    await this.store.markUnstarted(rolloutId, 'queued', ready.map((j) => j.plan.hostId));
    await this.handovers.enqueue(ready);
  }

  /** Runs until the rollout is finished; safe to run again (or in another process) after a crash. */
  async drive(rolloutId: string, stillOwner: () => boolean = () => true): Promise<RolloutStatus | 'missing'> {
    let lastReconcile = 0;
    while (stillOwner()) {
      if (!(await this.store.exists(rolloutId))) return 'missing';
      const { status, finished } = await this.store.advance(rolloutId);
      const cancel = CANCEL_REASON[status];
      if (cancel && (await this.store.cancelPending(rolloutId, cancel)) > 0) continue;
      if (finished && TERMINAL_ROLLOUT_STATUSES.includes(status)) {
        // Idempotent: a coordinator that died mid-compaction is re-run and finishes it.
        await compactFinishedRollout(this.redis, this.keys, rolloutId);
        return status;
      }
      if (status === 'running') await this.admit(rolloutId);
      await this.retryWaiting(rolloutId, status);
      if (Date.now() - lastReconcile >= this.settings.reconcileEveryMs) {
        await this.reconcile(rolloutId);
        lastReconcile = Date.now();
      }
      await new Promise((r) => setTimeout(r, this.settings.tickMs));
    }
    return (await this.store.status(rolloutId)) ?? 'missing';
  }

  async admit(rolloutId: string): Promise<number> {
    const jobs = await this.store.admit(rolloutId);
    await this.handovers.enqueue(await this.placed(rolloutId, jobs));
    return jobs.length;
  }

  /**
   * Admitted hosts whose job vanished (the process died between admission and enqueue, or the job
   * gave up) get their job again; hosts whose journal already has an outcome are counted.
   */
  async reconcile(rolloutId: string): Promise<void> {
    const stale = await this.store.admittedBefore(rolloutId, Date.now() - this.settings.reconcileAfterMs);
    for (const hostId of stale) {
      const handoverId = handoverIdOf(rolloutId, hostId);
      const state = await this.handovers.state(handoverId);
      if (LIVE_JOB_STATES.includes(state)) continue;
      const entries = await new RedisHandoverJournal(this.redis, this.keys, rolloutId, hostId).load(handoverId);
      const outcome = foldJournal(entries).outcome;
      if (outcome) {
        await this.store.recordOutcome(rolloutId, hostId, outcome);
        continue;
      }
      if (state !== 'missing') await this.handovers.remove(handoverId).catch(() => undefined);
      const [data] = await this.store.jobsOf(rolloutId, [hostId]);
      if (data) await this.handovers.enqueue(await this.placed(rolloutId, [data]));
    }
  }
}
