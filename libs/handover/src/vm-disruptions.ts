import type { HandoverPlan, VmMigration } from './handover-plan';
import type { HandoverProgress, OutcomeSummary } from './journal';
import { DEFAULT_STRATEGY } from './phases';

/** What an update did to a VM (design 4.4, `luo_fleet_vm_disruptions_total{kind}`). */
export const VM_DISRUPTION_KINDS = ['preserved', 'migrated', 'restarted', 'lost'] as const;
export type VmDisruptionKind = (typeof VM_DISRUPTION_KINDS)[number];
export type VmDisruptions = Partial<Record<VmDisruptionKind, number>>;

/**
 * The VMs of one host by what its handover did to them, from its plan and how it ended. Only what
 * the orchestrator knows is counted:
 * - updated: `live-update` preserved every VM; `live-update-restart` preserved those that rode
 *   it and restarted `restartVms`; `evacuate` migrated every VM.
 * - rolled_back: nothing rode a kexec. A started `stop_vms` was undone by `start_vms`: its VMs
 *   count as restarted. The VMs a `drain` moved (migrationsDone) count as migrated, and stay
 *   where they went.
 * - failed after the kexec took effect: a VM that existed before and runs nowhere after is
 *   `lost`. For both Live Updates: before `finish` ended, every VM of the host (those held in
 *   preserved memory were not resumed, the stopped ones not started); after it (`start_vms`
 *   failed), the stopped ones, the others were preserved. An evacuation's VMs were migrated
 *   before the kexec and run elsewhere.
 * - failed in a rollback (before the kexec): the VMs are still on the host's old kernel, paused or
 *   stopped; not counted, the host waits for a person. Those a drain moved away count as migrated.
 * - skipped, cancelled: nothing was done to any VM.
 */
export function vmDisruptionsOf(
  plan: HandoverPlan,
  outcome: OutcomeSummary,
  progress: Pick<HandoverProgress, 'started' | 'completed' | 'fence' | 'rollback' | 'drainMigrated'>,
): VmDisruptions {
  const strategy = plan.strategy ?? DEFAULT_STRATEGY;
  const riding = plan.preservationSet.vms?.length ?? 0;
  const restarting = plan.restartVms?.length ?? 0;
  const migrated = migrationsDone(plan, outcome, progress).length;
  switch (outcome.outcome) {
    case 'updated':
      return nonZero({ preserved: strategy === 'evacuate' ? 0 : riding, restarted: restarting, migrated });
    case 'rolled_back':
      return nonZero({ restarted: progress.started.includes('stop_vms') ? restarting : 0, migrated });
    case 'failed':
      // The kexec took effect: fenced, and not rolled back (a rollback means it did not).
      if (progress.fence === undefined || progress.rollback !== undefined) return nonZero({ migrated });
      if (strategy === 'evacuate') return nonZero({ migrated });
      // Once finish ended the VMs that rode the update run again; only the stopped ones are lost.
      if (progress.completed.includes('finish')) return nonZero({ preserved: riding, lost: restarting });
      return nonZero({ lost: riding + restarting });
    default:
      return {};
  }
}

/**
 * The migrations of an evacuation that took effect: every one once `drain` ended ok, else those a
 * broken drain named (DrainBrokenError); none for any other strategy, nor for a host that never
 * drained. The VMs are on their targets whatever the outcome: a rollback leaves them there.
 */
export function migrationsDone(
  plan: HandoverPlan,
  outcome: OutcomeSummary,
  progress: Pick<HandoverProgress, 'completed' | 'drainMigrated'>,
): VmMigration[] {
  if ((plan.strategy ?? DEFAULT_STRATEGY) !== 'evacuate' || outcome.outcome === 'skipped' || outcome.outcome === 'cancelled') return [];
  const all = plan.migrations ?? [];
  if (progress.completed.includes('drain')) return all;
  const moved = new Set(progress.drainMigrated ?? []);
  return all.filter((m) => moved.has(m.vmId));
}

/** An evacuation's drain started and broke without saying which VMs it moved (a driver that cannot, or a run resumed past it). */
export function migrationsUnknown(plan: HandoverPlan, progress: Pick<HandoverProgress, 'started' | 'completed' | 'drainMigrated'>): boolean {
  return (plan.strategy ?? DEFAULT_STRATEGY) === 'evacuate' && progress.started.includes('drain') && !progress.completed.includes('drain') && progress.drainMigrated === undefined;
}

function nonZero(counts: VmDisruptions): VmDisruptions {
  const out: VmDisruptions = {};
  for (const kind of VM_DISRUPTION_KINDS) if ((counts[kind] ?? 0) > 0) out[kind] = counts[kind];
  return out;
}
