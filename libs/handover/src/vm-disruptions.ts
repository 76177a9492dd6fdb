import type { HandoverPlan } from './handover-plan';
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
 *   count as restarted. A `drain` that ended ok migrated every VM, and they stay where they went;
 *   one that broke midway counts none (which moved is the host's to say, not the journal's).
 * - failed after the kexec took effect: a VM that existed before and runs nowhere after is
 *   `lost`. For both Live Updates: before `finish` ended, every VM of the host (those held in
 *   preserved memory were not resumed, the stopped ones not started); after it (`start_vms`
 *   failed), the stopped ones, the others were preserved. An evacuation's VMs were migrated
 *   before the kexec and run elsewhere.
 * - failed in a rollback (before the kexec): the VMs are still on the host's old kernel, paused or
 *   stopped; not counted, the host waits for a person.
 * - skipped, cancelled: nothing was done to any VM.
 */
export function vmDisruptionsOf(
  plan: HandoverPlan,
  outcome: OutcomeSummary,
  progress: Pick<HandoverProgress, 'started' | 'completed' | 'fence' | 'rollback'>,
): VmDisruptions {
  const strategy = plan.strategy ?? DEFAULT_STRATEGY;
  const riding = plan.preservationSet.vms?.length ?? 0;
  const restarting = plan.restartVms?.length ?? 0;
  const migrating = plan.migrations?.length ?? 0;
  const migrated = strategy === 'evacuate' && progress.completed.includes('drain') ? migrating : 0;
  switch (outcome.outcome) {
    case 'updated':
      return nonZero({ preserved: strategy === 'evacuate' ? 0 : riding, restarted: restarting, migrated: strategy === 'evacuate' ? migrating : 0 });
    case 'rolled_back':
      return nonZero({ restarted: progress.started.includes('stop_vms') ? restarting : 0, migrated });
    case 'failed':
      // The kexec took effect: fenced, and not rolled back (a rollback means it did not).
      if (progress.fence === undefined || progress.rollback !== undefined) return {};
      if (strategy === 'evacuate') return nonZero({ migrated: migrating });
      // Once finish ended the VMs that rode the update run again; only the stopped ones are lost.
      if (progress.completed.includes('finish')) return nonZero({ preserved: riding, lost: restarting });
      return nonZero({ lost: riding + restarting });
    default:
      return {};
  }
}

function nonZero(counts: VmDisruptions): VmDisruptions {
  const out: VmDisruptions = {};
  for (const kind of VM_DISRUPTION_KINDS) if ((counts[kind] ?? 0) > 0) out[kind] = counts[kind];
  return out;
}
