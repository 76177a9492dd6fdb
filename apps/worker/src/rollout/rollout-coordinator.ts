import { foldJournal, handoverIdOf } from '@luo-fleet/handover';
import { TERMINAL_ROLLOUT_STATUSES, type RolloutStatus } from '@luo-fleet/rollout';
import { compactFinishedRollout, RedisHandoverJournal, type RolloutStore } from '@luo-fleet/store';
import type { HandoverJobState, HandoverJobs } from '@luo-fleet/jobs';
import type { FleetKeys, RedisClient } from '@luo-fleet/redis';

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
  ) {}

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
    await this.handovers.enqueue(jobs);
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
      if (data) await this.handovers.enqueue([data]);
    }
  }
}
