import type { DeviceReason, HostReason, ValidationStage, VmReason } from '@luo-fleet/preservation';
import type { VmDisruptions } from './vm-disruptions';
import type { VmMigration } from './handover-plan';
import { DEFAULT_STRATEGY, type HandoverStep, type HostOutcome, type HostStrategy, type Strategy, type StrategyReason } from './phases';

export type HandoverReason = DeviceReason | HostReason | VmReason | StrategyReason;

/** A count of device verdicts made at one stage, as `luo_fleet_device_validations_total` wants them. */
export interface ValidationCount {
  result: 'preservable' | 'rejected';
  /** First reason of a rejected device, `none` for a preservable one. */
  reason: DeviceReason | 'none';
  count: number;
}

/**
 * One fact about a handover, appended before the next step starts. The journal is the handover's
 * only state: a worker that picks up the job again replays it to know where it stands.
 */
export type JournalEntry =
  | { type: 'step_start'; step: HandoverStep; at: number }
  | {
      type: 'step_end';
      step: HandoverStep;
      at: number;
      ok: boolean;
      durationMs: number;
      reasons?: HandoverReason[];
      error?: string;
      /** A `drain` that broke midway: the VMs it had moved (DrainBrokenError), which stay where they went. */
      migrated?: string[];
    }
  | { type: 'validation'; stage: ValidationStage; at: number; counts: ValidationCount[] }
  /** Written before `kexec` is issued: whoever finds it must decide by boot id, never issue kexec again. */
  | { type: 'kexec_fence'; at: number; bootIdBefore: string; kernelBefore: string }
  | { type: 'rollback_begin'; at: number; phase: HandoverStep; reasons: HandoverReason[]; error?: string }
  | ({
      type: 'outcome';
      at: number;
      /** Freeze start to finish end, for updated hosts. */
      blackoutMs?: number;
      kernelRelease?: string;
      bootId?: string;
      /** The host's VMs by what the handover did to them (vmDisruptionsOf); absent when none. */
      vms?: VmDisruptions;
      /** An evacuation's migrations that took effect (migrationsDone): the inventory moves these VMs. */
      migrations?: VmMigration[];
      /** A drain that broke without naming the VMs it moved (migrationsUnknown): their targets keep the room held. */
      migrationsUnknown?: true;
    } & OutcomeSummary);

export type OutcomeEntry = Extract<JournalEntry, { type: 'outcome' }>;

/**
 * What a handover came to: the outcome, the step it ended at, and why. A rollout's results keep it
 * per host and a handover job answers with it.
 */
export interface OutcomeSummary {
  outcome: HostOutcome;
  phase?: HandoverStep;
  reasons: HandoverReason[];
  error?: string;
  /** The plan's strategy when it is not `live-update` (design 4.6); absent for a Live Update. */
  strategy?: Strategy;
}

/** The summary of an outcome entry, its fields in this order (the results hash keeps it as JSON). */
export function outcomeSummaryOf(entry: OutcomeSummary): OutcomeSummary {
  const summary: OutcomeSummary = { outcome: entry.outcome, phase: entry.phase, reasons: entry.reasons, error: entry.error };
  if (entry.strategy !== undefined) summary.strategy = entry.strategy;
  return summary;
}

/** The `strategy` label of `luo_fleet_handovers_total` for an outcome: `skip` for a skipped host. */
export function strategyLabelOf(summary: OutcomeSummary): HostStrategy {
  return summary.outcome === 'skipped' ? 'skip' : (summary.strategy ?? DEFAULT_STRATEGY);
}

/**
 * Where handovers keep their journals. `append` must be durable before it resolves, and must refuse
 * (throw `JournalFencedError`) once the caller no longer owns the host: a worker that stalled and
 * lost its lock must not write on top of the one that took over.
 */
export interface HandoverJournal {
  load(handoverId: string): Promise<JournalEntry[]>;
  append(handoverId: string, entry: JournalEntry): Promise<void>;
  /** Appends several entries in order, in one round trip where the store can; each as `append` would. */
  appendMany?(handoverId: string, entries: JournalEntry[]): Promise<void>;
}

export class JournalFencedError extends Error {
  override name = 'JournalFencedError';
}

/** Journal for tests and single-process runs. */
export class InMemoryHandoverJournal implements HandoverJournal {
  private readonly journals = new Map<string, JournalEntry[]>();

  async load(handoverId: string): Promise<JournalEntry[]> {
    return [...(this.journals.get(handoverId) ?? [])];
  }

  async append(handoverId: string, entry: JournalEntry): Promise<void> {
    const list = this.journals.get(handoverId) ?? [];
    list.push(structuredClone(entry));
    this.journals.set(handoverId, list);
  }
}

/** What a journal says about a handover so far. */
export interface HandoverProgress {
  /** Steps that ended ok, in order. */
  completed: HandoverStep[];
  /** Steps that started (ok, failed or interrupted). */
  started: HandoverStep[];
  fence?: Extract<JournalEntry, { type: 'kexec_fence' }>;
  kexecEnded?: Extract<JournalEntry, { type: 'step_end' }>;
  rollback?: Extract<JournalEntry, { type: 'rollback_begin' }>;
  outcome?: OutcomeEntry;
  /** When `freeze` first started: the blackout's beginning. */
  freezeStartedAt?: number;
  /** When `finish` ended ok: the blackout's end. */
  finishEndedAt?: number;
  /** The VMs a broken `drain` had moved, from its latest end. */
  drainMigrated?: string[];
}

export function foldJournal(entries: JournalEntry[]): HandoverProgress {
  const progress: HandoverProgress = { completed: [], started: [] };
  for (const e of entries) {
    switch (e.type) {
      case 'step_start':
        if (!progress.started.includes(e.step)) progress.started.push(e.step);
        if (e.step === 'freeze' && progress.freezeStartedAt === undefined) progress.freezeStartedAt = e.at;
        break;
      case 'step_end':
        if (e.ok && !progress.completed.includes(e.step)) progress.completed.push(e.step);
        if (e.step === 'kexec') progress.kexecEnded = e;
        else if (e.step === 'finish' && e.ok) progress.finishEndedAt ??= e.at;
        else if (e.step === 'drain' && e.migrated !== undefined) progress.drainMigrated = e.migrated;
        break;
      case 'kexec_fence':
        progress.fence = e;
        break;
      case 'rollback_begin':
        progress.rollback = e;
        break;
      case 'outcome':
        progress.outcome = e;
        break;
      case 'validation':
        break;
    }
  }
  return progress;
}
