import { buildPreservationSet, type DeviceReason, type DeviceVerdict } from '@luo-fleet/preservation';
import type { HostTopology } from '@luo-fleet/topology';
import { findDrift } from './drift';
import { preservedBdfs, type HandoverPlan } from './handover-plan';
import {
  DrainBrokenError,
  HostUnreachableError,
  KexecReturnedError,
  type HostDriver,
  type HostIdentity,
  type StepContext,
} from './host-driver';
import {
  foldJournal,
  JournalFencedError,
  type HandoverJournal,
  type HandoverProgress,
  type HandoverReason,
  type JournalEntry,
  type OutcomeEntry,
  type ValidationCount,
} from './journal';
import {
  DEFAULT_STRATEGY,
  STRATEGY_PHASES,
  UNDO_OF,
  type HandoverStep,
  type VmStep,
  type PostKexecPhase,
  type PreKexecPhase,
  type RollbackStep,
  type Strategy,
  type StrategyPhases,
} from './phases';
import { migrationsDone, migrationsUnknown, vmDisruptionsOf } from './vm-disruptions';

export interface HandoverMachineOptions {
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** A step that outlives its limit fails: a hung VMM must not hold a host (or a rollout) forever. */
  stepTimeoutMs?: number;
  /** How long `await_boot` waits for the host to answer with a new boot id. */
  bootTimeoutMs?: number;
  bootPollMs?: number;
  /**
   * How long a host may keep answering with its old boot id after kexec before we conclude the
   * reboot did not take effect (a real host answers for a moment while it shuts its VMMs down).
   */
  sameBootGraceMs?: number;
  /** Runs before every step; throws when this worker no longer owns the host. */
  checkpoint?: () => void | Promise<void>;
  /**
   * Asked before each step up to the kexec: true when the operator aborted the rollout. The host
   * is then rolled back at once instead of going on; after the kexec nothing can be aborted.
   */
  abortRequested?: () => boolean | Promise<boolean>;
}

/** A step that ran and was refused, with the reason codes that explain why. */
export class StepRejectedError extends Error {
  override name = 'StepRejectedError';
  constructor(
    message: string,
    readonly reasons: HandoverReason[],
  ) {
    super(message);
  }
}

const ABORTED = 'rollout aborted by the operator before kexec';

/** The HostDriver method that carries out each VM step. */
const VM_STEP_METHOD = {
  stop_vms: 'stopVms',
  start_vms: 'startVms',
  drain: 'drain',
  undrain: 'undrain',
} as const satisfies Record<VmStep, keyof HostDriver>;

const DEFAULTS = {
  stepTimeoutMs: 10 * 60_000,
  bootTimeoutMs: 15 * 60_000,
  bootPollMs: 2_000,
  sameBootGraceMs: 30_000,
};

interface StepResult {
  ok: boolean;
  reasons: HandoverReason[];
  error?: string;
  /** A broken drain's moved VMs (DrainBrokenError). */
  migrated?: string[];
}

/**
 * Drives one host through the phases of its plan's strategy (design 4.2 and 4.6), journaling every
 * step before the next starts, so that calling it again with the same journal (another worker,
 * after a crash) resumes where the last one stopped. It never issues `kexec` twice: once the fence
 * is written, only the host's boot id decides what happened, whatever the strategy.
 */
export async function runHandover(
  driver: HostDriver,
  journal: HandoverJournal,
  plan: HandoverPlan,
  options: HandoverMachineOptions = {},
): Promise<OutcomeEntry> {
  return new HandoverRun(driver, journal, plan, options).run();
}

class HandoverRun {
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly opts: typeof DEFAULTS;
  private progress: HandoverProgress = { completed: [], started: [] };
  private validatedStages = new Set<string>();
  private heldBack: JournalEntry[] = [];
  private bootedAs?: HostIdentity;
  private readonly ctx: (step: HandoverStep) => StepContext;
  private readonly strategy: Strategy;
  private readonly phases: StrategyPhases;

  constructor(
    private readonly driver: HostDriver,
    private readonly journal: HandoverJournal,
    private readonly plan: HandoverPlan,
    private readonly options: HandoverMachineOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.opts = {
      stepTimeoutMs: options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs,
      bootTimeoutMs: options.bootTimeoutMs ?? DEFAULTS.bootTimeoutMs,
      bootPollMs: options.bootPollMs ?? DEFAULTS.bootPollMs,
      sameBootGraceMs: options.sameBootGraceMs ?? DEFAULTS.sameBootGraceMs,
    };
    this.strategy = plan.strategy ?? DEFAULT_STRATEGY;
    this.phases = STRATEGY_PHASES[this.strategy];
    this.ctx = (step) => ({
      handoverId: plan.handoverId,
      hostId: plan.hostId,
      rolloutId: plan.rolloutId,
      targetKernel: plan.targetKernel,
      preservationSet: plan.preservationSet,
      requestId: `${plan.handoverId}/${step}`,
    });
    if (this.strategy !== DEFAULT_STRATEGY) {
      // Only the other strategies' steps carry what they act on: a Live Update's are as they were.
      const base = this.ctx;
      const strategy = this.strategy;
      this.ctx = (step) => ({
        ...base(step),
        strategy,
        ...(plan.restartVms === undefined ? {} : { restartVms: plan.restartVms }),
        ...(plan.migrations === undefined ? {} : { migrations: plan.migrations }),
      });
    }
  }

  async run(): Promise<OutcomeEntry> {
    const entries = await this.journal.load(this.plan.handoverId);
    this.progress = foldJournal(entries);
    for (const e of entries) if (e.type === 'validation') this.validatedStages.add(e.stage);
    const p = this.progress;

    if (p.outcome) return p.outcome;
    if (this.phases.preserves && !this.plan.preservationSet.summary.eligible) return this.skip();

    if (p.rollback) return this.rollBack();
    if (p.fence) {
      if (p.kexecEnded && !p.kexecEnded.ok) {
        return this.beginRollback('kexec', [], p.kexecEnded.error ?? 'reboot returned an error');
      }
      return this.afterKexec();
    }
    return this.beforeKexec();
  }

  // ---- before the point of no return -------------------------------------------------------

  private async beforeKexec(): Promise<OutcomeEntry> {
    for (const phase of this.phases.beforeKexec) {
      if (this.progress.completed.includes(phase)) continue;
      if (await this.aborted()) return this.beginRollback(phase, [], ABORTED);
      await this.checkpoint();
      const startedAt = this.clock();
      if (this.progress.started.length === 0 && this.plan.startBy !== undefined && startedAt >= this.plan.startBy) {
        // Admitted in time but picked up after the cutoff: the window promises no host starts late.
        return this.finishWith({ type: 'outcome', at: startedAt, outcome: 'cancelled', reasons: [], error: 'cutoff passed before this host started' });
      }
      const result = await this.runStep(phase, () => this.prePhase(phase), startedAt);
      if (!result.ok) return this.beginRollback(phase, result.reasons, result.error);
    }
    if (await this.aborted()) return this.beginRollback('kexec', [], ABORTED);
    return this.kexec();
  }

  private async aborted(): Promise<boolean> {
    return (await this.options.abortRequested?.()) === true;
  }

  private prePhase(phase: PreKexecPhase): Promise<void> {
    switch (phase) {
      case 'precheck':
        return this.phases.preserves ? this.precheck() : this.hostAnswers();
      case 'drain':
        return this.vmStep(phase);
      case 'kexec_load':
        return this.driver.kexecLoad(this.ctx(phase));
      case 'stop_vms':
        return this.vmStep(phase);
      case 'preserve':
        return this.driver.preserve(this.ctx(phase));
      case 'freeze':
        return this.driver.freeze(this.ctx(phase));
    }
  }

  /** A VM step of design 4.6. */
  private vmStep(step: VmStep): Promise<void> {
    return this.driver[VM_STEP_METHOD[step]](this.ctx(step));
  }

  /** Precheck of a strategy that preserves nothing: the host answers (LUO and devices do not matter). */
  private async hostAnswers(): Promise<void> {
    await this.driver.identity();
  }

  /** The host answers, LUO is on, and every preserved device still passes the rules and matches the plan. */
  private async precheck(): Promise<void> {
    // Both questions at once (a real host answers each over the network), judged in this order.
    const [identity, topology] = await Promise.allSettled([this.driver.identity(), this.driver.topology()]);
    if (identity.status === 'rejected') throw identity.reason;
    if (!identity.value.luoEnabled) {
      throw new StepRejectedError('/dev/liveupdate missing or liveupdate=on kho=on not on the kernel command line', [
        'LUO_DISABLED',
      ]);
    }
    if (topology.status === 'rejected') throw topology.reason;
    await this.revalidate('precheck', [], topology.value);
  }

  private async kexec(): Promise<OutcomeEntry> {
    await this.checkpoint();
    // The phase starts by learning the boot id (a read, no side effect, so nothing is journaled
    // for it): it is what tells, later, whether the kexec took effect.
    const started = this.clock();
    let identity: HostIdentity;
    try {
      identity = await this.driver.identity();
    } catch (err) {
      return this.beginRollback('kexec', reasonsOf(err), messageOf(err));
    }
    const fence: Extract<JournalEntry, { type: 'kexec_fence' }> = {
      type: 'kexec_fence',
      at: this.clock(),
      bootIdBefore: identity.bootId,
      kernelBefore: identity.kernelRelease,
    };
    // One write, before the reboot: a journal that has the kexec's start has its fence.
    await this.append({ type: 'step_start', step: 'kexec', at: started }, fence);
    this.progress.fence = fence;
    try {
      await this.withTimeout('kexec', this.driver.kexec(this.ctx('kexec')));
    } catch (err) {
      if (err instanceof JournalFencedError) throw err;
      if (err instanceof KexecReturnedError) {
        await this.append({
          type: 'step_end',
          step: 'kexec',
          at: this.clock(),
          ok: false,
          durationMs: this.clock() - started,
          error: messageOf(err),
        });
        return this.beginRollback('kexec', [], `reboot returned: ${messageOf(err)}`);
      }
      // No answer, or the connection dropped as the host went down (a real kexec often reboots
      // before the agent can answer): the reboot was asked for, and only the boot id can tell
      // whether it took effect. The step ended all the same, and its end is counted like any other.
      this.holdBack({ type: 'step_end', step: 'kexec', at: this.clock(), ok: true, durationMs: this.clock() - started, error: `no answer, the boot id decides: ${messageOf(err)}` });
      return this.afterKexec();
    }
    this.holdBack({ type: 'step_end', step: 'kexec', at: this.clock(), ok: true, durationMs: this.clock() - started });
    return this.afterKexec();
  }

  // ---- after the point of no return ----------------------------------------------------------

  private async afterKexec(): Promise<OutcomeEntry> {
    const fence = this.progress.fence!;
    if (!this.progress.completed.includes('await_boot')) {
      let notRebooted: string | undefined;
      const result = await this.runStep('await_boot', async () => {
        const decision = await this.awaitBoot(fence.bootIdBefore);
        if (decision.kind === 'same_boot') {
          notRebooted = `kexec did not take effect: the host still answers with boot id ${fence.bootIdBefore}`;
          throw new StepRejectedError(notRebooted, []);
        }
        if (decision.kind === 'unreachable') {
          throw new StepRejectedError(
            `no answer with a new boot id within ${Math.round(this.opts.bootTimeoutMs / 1000)} s`,
            ['HOST_UNREACHABLE'],
          );
        }
        const id = decision.identity;
        this.bootedAs = id;
        if (id.kernelRelease !== this.plan.targetKernel) {
          throw new StepRejectedError(
            `host came back (boot id ${id.bootId}) on kernel ${id.kernelRelease}, not ${this.plan.targetKernel}: the new kernel did not boot`,
            [],
          );
        }
        if (!id.luoEnabled && this.phases.preserves) throw new StepRejectedError('new kernel has Live Update disabled', ['LUO_DISABLED']);
      });
      if (notRebooted) return this.beginRollback('kexec', [], notRebooted);
      if (!result.ok) return this.fail('await_boot', result);
    }
    const after = this.phases.afterKexec;
    for (let i = 1; i < after.length; i++) {
      const phase = after[i];
      if (this.progress.completed.includes(phase)) continue;
      const result = await this.runStep(phase, () => this.postPhase(phase));
      if (!result.ok) return this.fail(phase, result);
      // The preserved VMs run again once finish ended: what comes after it is not blackout.
      if (phase === 'finish' && i < after.length - 1) this.progress.finishEndedAt ??= this.clock();
    }
    // The identity await_boot saw (a resumed run past await_boot asks again).
    const identity = this.bootedAs ?? (await this.driver.identity().catch(() => undefined));
    const end = this.clock();
    const frozenAt = this.progress.freezeStartedAt;
    // When finish is the last phase the blackout ends with the handover; else when finish ended.
    const thawedAt = after[after.length - 1] === 'finish' ? end : (this.progress.finishEndedAt ?? end);
    return this.finishWith({
      type: 'outcome',
      at: end,
      outcome: 'updated',
      reasons: [],
      blackoutMs: frozenAt === undefined ? undefined : thawedAt - frozenAt,
      kernelRelease: identity?.kernelRelease,
      bootId: identity?.bootId,
    });
  }

  private postPhase(phase: PostKexecPhase): Promise<void> {
    switch (phase) {
      case 'await_boot':
        return Promise.reject(new Error('await_boot runs before every other phase after the kexec'));
      case 'retrieve':
        return this.retrieve();
      case 'finish':
        return this.driver.finish(this.ctx(phase));
      case 'start_vms':
        return this.vmStep(phase);
      case 'undrain':
        return this.vmStep(phase);
    }
  }

  private async awaitBoot(
    bootIdBefore: string,
  ): Promise<{ kind: 'booted'; identity: HostIdentity } | { kind: 'same_boot' } | { kind: 'unreachable' }> {
    const start = this.clock();
    let sameSince: number | undefined;
    for (;;) {
      try {
        // A poll may not outlast the boot timeout by much (a driver retrying an unreachable host can
        // take long): else the step's own limit fires first and the verdict loses HOST_UNREACHABLE.
        const remaining = this.opts.bootTimeoutMs - (this.clock() - start);
        // One attempt per poll: this loop is the retry, and a host that just came up is seen at
        // the next poll rather than after the driver's backoff.
        const id = await this.withTimeout('await_boot', this.driver.identity({ once: true }), Math.min(this.opts.stepTimeoutMs, 30_000, Math.max(remaining, 1_000)));
        if (id.bootId !== bootIdBefore) return { kind: 'booted', identity: id };
        sameSince ??= this.clock();
        if (this.clock() - sameSince >= this.opts.sameBootGraceMs) return { kind: 'same_boot' };
      } catch (err) {
        if (err instanceof JournalFencedError) throw err;
        sameSince = undefined;
      }
      if (this.clock() - start >= this.opts.bootTimeoutMs) {
        return sameSince === undefined ? { kind: 'unreachable' } : { kind: 'same_boot' };
      }
      // The host is still booting: say so in the journal (and the host's state) before waiting.
      if (this.heldBack.length > 0) await this.append();
      await this.sleep(this.opts.bootPollMs);
    }
  }

  /** The new kernel's check, done first by us: every preserved device came in, and still passes. */
  private async retrieve(): Promise<void> {
    const ctx = this.ctx('retrieve');
    const [report, topology] = await Promise.allSettled([this.driver.incoming(ctx), this.driver.topology()]);
    if (report.status === 'rejected') throw report.reason;
    if (topology.status === 'rejected') throw topology.reason;
    const notIncoming = preservedBdfs(this.plan).filter((b) => !report.value.incoming.includes(b));
    await this.revalidate('retrieve', notIncoming, topology.value);
    await this.driver.retrieve(ctx);
  }

  /** Re-apply the plan's rules to the topology the host just reported and compare with the plan (precheck and retrieve). */
  private async revalidate(stage: 'precheck' | 'retrieve', notIncoming: string[], topology: HostTopology): Promise<void> {
    const bdfs = preservedBdfs(this.plan);
    const set = buildPreservationSet(topology, bdfs, { profile: this.plan.profile, strictAcs: this.plan.strictAcs });
    const drift = new Map(findDrift(this.plan.plannedDevices, topology).map((d) => [d.bdf, d.detail]));
    const counts = new Map<string, ValidationCount>();
    const reasons = new Set<HandoverReason>();
    const details: string[] = [];
    for (const verdict of set.devices) {
      const own = rejectionReasons(verdict, drift.get(verdict.bdf), notIncoming.includes(verdict.bdf));
      const key = own.length === 0 ? 'preservable/none' : `rejected/${own[0]}`;
      const c = counts.get(key) ?? {
        result: own.length === 0 ? 'preservable' : 'rejected',
        reason: own[0] ?? 'none',
        count: 0,
      };
      c.count++;
      counts.set(key, c);
      for (const r of own) reasons.add(r);
      if (own.length > 0) details.push(`${verdict.bdf}: ${own.join(',')}${drift.has(verdict.bdf) ? ` (${drift.get(verdict.bdf)})` : ''}`);
    }
    if (!this.validatedStages.has(stage)) {
      // Counted once per handover and stage, even when a resumed job validates again; written with
      // the step's end (a crash before it re-runs the step, which validates again).
      this.holdBack({ type: 'validation', stage, at: this.clock(), counts: [...counts.values()] });
      this.validatedStages.add(stage);
    }
    if (reasons.size > 0) throw new StepRejectedError(details.join('; '), [...reasons]);
  }

  // ---- rollback -----------------------------------------------------------------------------

  private async beginRollback(phase: HandoverStep, reasons: HandoverReason[], error?: string): Promise<OutcomeEntry> {
    await this.append({ type: 'rollback_begin', at: this.clock(), phase, reasons, error });
    this.progress.rollback = { type: 'rollback_begin', at: this.clock(), phase, reasons, error };
    return this.rollBack();
  }

  /** Undo, in reverse, every pre-kexec phase of the strategy that started (a half-done phase is undone too). */
  private async rollBack(): Promise<OutcomeEntry> {
    const cause = this.progress.rollback!;
    const undo: RollbackStep[] = [];
    const before = this.phases.beforeKexec;
    for (let i = before.length - 1; i >= 0; i--) {
      const step = UNDO_OF[before[i]];
      if (step && this.progress.started.includes(before[i])) undo.push(step);
    }
    for (const step of undo) {
      if (this.progress.completed.includes(step)) continue;
      const result = await this.runStep(step, () => this.undoStep(step));
      if (!result.ok) {
        // The host is in a state we could not undo: it needs a person, not a guess.
        return this.fail(step, {
          ok: false,
          reasons: [...cause.reasons, ...result.reasons],
          error: `rollback after ${cause.phase} failed at ${step}: ${result.error ?? 'error'}`,
        });
      }
    }
    return this.finishWith({
      type: 'outcome',
      at: this.clock(),
      outcome: 'rolled_back',
      phase: cause.phase,
      reasons: cause.reasons,
      error: cause.error,
    });
  }

  private undoStep(step: RollbackStep): Promise<void> {
    const ctx = this.ctx(step);
    switch (step) {
      case 'thaw':
        return this.driver.thaw(ctx);
      case 'unpreserve':
        return this.driver.unpreserve(ctx);
      case 'kexec_unload':
        return this.driver.kexecUnload(ctx);
      case 'start_vms':
        return this.vmStep(step);
      case 'undrain':
        return this.vmStep(step);
    }
  }

  // ---- outcomes and steps -------------------------------------------------------------------

  private skip(): Promise<OutcomeEntry> {
    const reasons = new Set<HandoverReason>();
    for (const d of this.plan.preservationSet.devices) if (d.reasons[0]) reasons.add(d.reasons[0]);
    return this.finishWith({
      type: 'outcome',
      at: this.clock(),
      outcome: 'skipped',
      reasons: [...reasons],
      error: 'not eligible under the plan',
    });
  }

  private fail(phase: HandoverStep, result: StepResult): Promise<OutcomeEntry> {
    return this.finishWith({
      type: 'outcome',
      at: this.clock(),
      outcome: 'failed',
      phase,
      reasons: result.reasons,
      error: result.error,
    });
  }

  private async finishWith(outcome: OutcomeEntry): Promise<OutcomeEntry> {
    if (this.strategy !== DEFAULT_STRATEGY) outcome.strategy = this.strategy;
    const vms = vmDisruptionsOf(this.plan, outcome, this.progress);
    if (Object.keys(vms).length > 0) outcome.vms = vms;
    const migrations = migrationsDone(this.plan, outcome, this.progress);
    if (migrations.length > 0) outcome.migrations = migrations;
    if (migrationsUnknown(this.plan, this.progress)) outcome.migrationsUnknown = true;
    await this.append(outcome);
    this.progress.outcome = outcome;
    return outcome;
  }

  private async runStep(step: HandoverStep, body: () => Promise<void>, startedAt?: number): Promise<StepResult> {
    if (startedAt === undefined) await this.checkpoint();
    const started = startedAt ?? this.clock();
    const start: JournalEntry = { type: 'step_start', step, at: started };
    // Precheck and await_boot only ask the host questions: a worker that dies in one leaves
    // nothing on the host, and the next one asks again. So precheck's start is written with its
    // end, and await_boot's with its end when the host is back at the first question, else before
    // the first wait (awaitBoot): a write per host less, without hiding a boot that takes time.
    if (step === 'precheck' || step === 'await_boot') this.holdBack(start);
    else await this.append(start);
    if (!this.progress.started.includes(step)) this.progress.started.push(step);
    if (step === 'freeze') this.progress.freezeStartedAt ??= started;
    let result: StepResult;
    try {
      // await_boot has its own limit (the boot timeout); a step limit must not cut it short.
      const limit = step === 'await_boot' ? this.opts.bootTimeoutMs + 10 * this.opts.bootPollMs + 1_000 : undefined;
      await this.withTimeout(step, body(), limit);
      result = { ok: true, reasons: [] };
    } catch (err) {
      if (err instanceof JournalFencedError) throw err;
      result = { ok: false, reasons: reasonsOf(err), error: messageOf(err), ...(err instanceof DrainBrokenError ? { migrated: err.migrated } : {}) };
    }
    this.holdBack({
      type: 'step_end',
      step,
      at: this.clock(),
      ok: result.ok,
      durationMs: this.clock() - started,
      ...(result.reasons.length > 0 ? { reasons: result.reasons } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
      ...(result.migrated !== undefined ? { migrated: result.migrated } : {}),
    });
    if (result.ok) this.progress.completed.push(step);
    if (result.migrated !== undefined) this.progress.drainMigrated = result.migrated;
    return result;
  }

  /** `work`'s result, or a rejection once `limitMs` passed first (one promise and a timer per step: this runs on every step of every host). */
  private withTimeout<T>(step: HandoverStep, work: Promise<T>, limitMs = this.opts.stepTimeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${step} timed out after ${limitMs} ms`)), limitMs);
      timer.unref();
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private async checkpoint(): Promise<void> {
    await this.options.checkpoint?.();
  }

  /** Writes `written`, in order, after any entries held back for them (with none given, just those). */
  private async append(...written: JournalEntry[]): Promise<void> {
    const entries = [...this.heldBack, ...written];
    this.heldBack = [];
    if (entries.length === 1 || !this.journal.appendMany) {
      for (const e of entries) await this.journal.append(this.plan.handoverId, e);
    } else {
      await this.journal.appendMany(this.plan.handoverId, entries);
    }
  }

  /**
   * A step's end is written together with whatever is written next (the next step's start, a
   * fence, a validation, the outcome), which always happens before the next side effect on the
   * host. A crash in between only means the step, which is repeatable, runs again.
   */
  private holdBack(entry: JournalEntry): void {
    this.heldBack.push(entry);
  }
}

function rejectionReasons(verdict: DeviceVerdict, drift: string | undefined, notIncoming: boolean): DeviceReason[] {
  const reasons: DeviceReason[] = [...verdict.reasons];
  if (drift !== undefined && !reasons.includes('TOPOLOGY_DRIFT')) reasons.push('TOPOLOGY_DRIFT');
  if (notIncoming) reasons.push('NOT_INCOMING');
  return reasons;
}

function reasonsOf(err: unknown): HandoverReason[] {
  if (err instanceof StepRejectedError) return err.reasons;
  if (err instanceof HostUnreachableError) return ['HOST_UNREACHABLE'];
  return [];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
