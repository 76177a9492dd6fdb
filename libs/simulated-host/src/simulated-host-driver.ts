import type { HostTopology } from '@luo-fleet/topology';
import {
  DrainBrokenError,
  HostUnreachableError,
  KexecReturnedError,
  StepFailedError,
  type HostDriver,
  type HostIdentity,
  type RetrieveReport,
  type StepContext,
} from '@luo-fleet/handover';
import { DEFAULT_LATENCY, drawBootDelayMs, drawStepLatencyMs, latencyModel, type LatencyModel } from './latency-model';
import {
  bootIdOf,
  isDown,
  recordHistory,
  type MutatingStep,
  type SimulatedHistoryEntry,
  type SimulatedHostState,
  type SimulatedStep,
} from './simulated-host-state';
import { SimulatedHostNotFoundError, vmName, type SimulatedHostSnapshot, type SimulatedHostStore } from './simulated-host-store';

export interface SimulatedHostDriverOptions {
  latency?: LatencyModel;
  /** Shorthand for `latency.scale` (0 = never sleep). */
  latencyScale?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type Outcome = { result: SimulatedHistoryEntry['result']; error?: Error };
const OK: Outcome = { result: 'ok' };

/**
 * A simulated hypervisor host behind the HostDriver interface. Nothing lives in this object: every
 * call reads and changes the host's record in the store, so a worker killed mid-phase leaves the
 * host as a real one would be, and any other worker can drive it on.
 */
export class SimulatedHostDriver implements HostDriver {
  private readonly latency: LatencyModel;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Reads are not recorded in the store, so their latency draws are numbered per driver. */
  private readonly reads: Partial<Record<SimulatedStep, number>> = {};
  /** This driver changed the host (see `read`). */
  private wrote = false;

  constructor(
    readonly hostId: string,
    private readonly store: SimulatedHostStore,
    opts: SimulatedHostDriverOptions = {},
  ) {
    const base = opts.latency ?? DEFAULT_LATENCY;
    this.latency = opts.latencyScale === undefined ? base : latencyModel({ ...base, scale: opts.latencyScale });
    this.clock = opts.clock ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  // ---- reads --------------------------------------------------------------------------------

  async identity(): Promise<HostIdentity> {
    const s = await this.read('identity');
    return { bootId: s.bootId, kernelRelease: s.kernelRelease, luoEnabled: s.luoEnabled };
  }

  async topology(): Promise<HostTopology> {
    return (await this.observe('topology', () => this.snapshotOrUnreachable(), (s) => s.state)).topology;
  }

  async incoming(_ctx: StepContext): Promise<RetrieveReport> {
    return { incoming: [...(await this.read('incoming')).incoming] };
  }

  // ---- before the point of no return --------------------------------------------------------

  kexecLoad(ctx: StepContext): Promise<void> {
    return this.mutate('kexec_load', (s) => {
      if (s.faults.failStep === 'kexec_load') return failed(`kexec_load of ${ctx.targetKernel}: kexec_file_load returned -EINVAL`);
      s.kexecLoaded = ctx.targetKernel;
      return OK;
    });
  }

  preserve(ctx: StepContext): Promise<void> {
    return this.mutate('preserve', (s) => {
      const wanted = ctx.preservationSet.devices.filter((d) => d.preservable).map((d) => d.bdf);
      s.session.open = true;
      if (s.faults.failStep === 'preserve') {
        // A VMM that preserved some fds before its error: rollback has to drop them.
        const half = wanted.slice(0, Math.ceil(wanted.length / 2));
        s.session.preserved = union(s.session.preserved, half);
        return failed(`preserve: VMM hook failed after preserving ${half.length} of ${wanted.length} devices`);
      }
      s.session.preserved = union(s.session.preserved, wanted);
      return OK;
    });
  }

  freeze(_ctx: StepContext): Promise<void> {
    return this.mutate('freeze', (s) => {
      // vCPUs are paused first, then interrupts disabled: a failure leaves the VMs paused.
      s.vmsPaused = true;
      if (s.faults.failStep === 'freeze') return failed('freeze: could not disable device interrupts');
      s.frozen = true;
      return OK;
    });
  }

  // ---- the point of no return ---------------------------------------------------------------

  async kexec(ctx: StepContext): Promise<void> {
    // An evacuation reboots an empty host: any VM still here would be lost, so the host refuses.
    const evacuated = ctx.strategy === 'evacuate';
    const left = evacuated ? await this.store.vmsOn(this.hostId) : [];
    return this.mutate('kexec', (s, now) => {
      if (s.kexecLoaded === null) return { result: 'refused', error: new StepFailedError('kexec: no kernel image is loaded') };
      if (evacuated && (!s.drained || left.length > 0)) {
        return { result: 'refused', error: new StepFailedError(`kexec: host not drained (${left.length} VMs still here)`) };
      }
      if (!evacuated && !s.frozen) return { result: 'refused', error: new StepFailedError('kexec: VMs are not frozen') };
      if (s.faults.rebootReturnsError) {
        return { result: 'returned', error: new KexecReturnedError('reboot(LINUX_REBOOT_CMD_KEXEC) returned -EBUSY') };
      }
      const kexecNumber = s.calls.kexec ?? 1;
      const oldKernel = s.kernelRelease;
      const target = s.kexecLoaded;
      const preserved = [...s.session.preserved];
      s.bootId = bootIdOf(s.seed, s.hostId, kexecNumber);
      if (s.faults.panicFallback) {
        // The new kernel panicked restoring PCI state; firmware booted the old one, without KHO data.
        s.incoming = [];
        s.vmsRunning = false;
        s.vmsPaused = false;
        s.vmsLost = true;
      } else {
        if (target !== oldKernel) {
          s.previousKernels.push(oldKernel);
          s.kernelRelease = target;
        }
        s.incoming = preserved;
        // Guests wait in preserved memory until finish resumes them; an emptied host has none,
        // and VMs moved to it later run at once.
        s.vmsRunning = evacuated;
        s.vmsPaused = !evacuated;
      }
      if (s.faults.neverReturns) {
        s.vmsRunning = false;
        s.vmsPaused = false;
        s.vmsLost = true;
      }
      s.retrieved = [];
      s.finished = false;
      s.session = { open: false, preserved: [] };
      s.kexecLoaded = null;
      s.frozen = false;
      s.down = s.faults.neverReturns ? 'forever' : now + drawBootDelayMs(this.latency, s.seed, s.hostId, kexecNumber);
      return OK;
    });
  }

  // ---- after it -----------------------------------------------------------------------------

  retrieve(_ctx: StepContext): Promise<void> {
    return this.mutate('retrieve', (s) => {
      if (s.faults.retrieveFails || s.faults.failStep === 'retrieve') {
        return failed(`retrieve: pci_liveupdate_retrieve() refused ${s.incoming[0] ?? 'the incoming devices'}`);
      }
      s.retrieved = [...s.incoming];
      return OK;
    });
  }

  finish(_ctx: StepContext): Promise<void> {
    return this.mutate('finish', (s) => {
      if (s.faults.failStep === 'finish') return failed('finish: VMM could not resume its vCPUs');
      if (s.vmsLost) return failed('finish: no preserved VMs to resume');
      s.vmsRunning = true;
      s.vmsPaused = false;
      s.finished = true;
      return OK;
    });
  }

  // ---- VM steps (design 4.6) ------------------------------------------------------------------

  /** Stops `ctx.restartVms` cleanly (those that run here); with its fault, the first half only. */
  stopVms(ctx: StepContext): Promise<void> {
    return this.mutate('stop_vms', (s) => {
      const wanted = ctx.restartVms ?? [];
      if (s.faults.failStep === 'stop_vms') {
        const half = wanted.slice(0, Math.ceil(wanted.length / 2));
        s.stoppedVms = union(s.stoppedVms ?? [], half);
        return failed(`stop_vms: guest shutdown timed out after stopping ${half.length} of ${wanted.length} VMs`);
      }
      s.stoppedVms = union(s.stoppedVms ?? [], wanted);
      return OK;
    });
  }

  /** Starts `ctx.restartVms` again; one already running is left alone. */
  startVms(ctx: StepContext): Promise<void> {
    return this.mutate('start_vms', (s) => {
      if (s.faults.failStep === 'start_vms') return failed('start_vms: VMM could not start the stopped VMs');
      const started = new Set(ctx.restartVms ?? []);
      s.stoppedVms = (s.stoppedVms ?? []).filter((id) => !started.has(id));
      return OK;
    });
  }

  /**
   * Takes the host out of service and live-migrates every VM of `ctx.migrations` to its target,
   * one atomic move each (SimulatedHostStore.migrateVm): a worker killed between two moves leaves
   * each VM on exactly one host, and the resent step moves the rest. With its fault, the first
   * half move and the step fails.
   */
  async drain(ctx: StepContext): Promise<void> {
    const migrations = ctx.migrations ?? [];
    const before = await this.peekOrUnreachable();
    if (isDown(before, this.clock())) throw new HostUnreachableError(`simulated host ${this.hostId} does not answer`);
    const failing = before.faults.failStep === 'drain';
    const moving = failing ? migrations.slice(0, Math.floor(migrations.length / 2)) : migrations;
    const problems: string[] = [];
    const moved: string[] = [];
    if (before.faults.hangStep !== 'drain') {
      for (const m of moving) {
        if (m.targetHostId === this.hostId || (await this.store.peek(m.targetHostId)) === null) {
          problems.push(`${m.vmId}: no host ${m.targetHostId} to migrate to`);
          continue;
        }
        const result = await this.store.migrateVm(vmName(this.hostId, m.vmId), this.hostId, m.targetHostId);
        if (result === 'elsewhere') problems.push(`${m.vmId} runs neither here nor on ${m.targetHostId}`);
        else moved.push(m.vmId);
      }
    }
    return this.mutate('drain', (s) => {
      s.drained = true;
      if (failing) return broken(`drain: live migration broke after moving ${moving.length} of ${migrations.length} VMs`, moved);
      if (problems.length > 0) return broken(`drain: ${problems.join('; ')}`, moved);
      return OK;
    });
  }

  /** Returns the host to service; VMs already migrated stay where they went. */
  undrain(_ctx: StepContext): Promise<void> {
    return this.mutate('undrain', (s) => {
      if (s.faults.failStep === 'undrain') return failed('undrain: could not return the host to service');
      s.drained = false;
      return OK;
    });
  }

  // ---- rollback -----------------------------------------------------------------------------

  thaw(_ctx: StepContext): Promise<void> {
    return this.mutate('thaw', (s) => {
      if (s.faults.failStep === 'thaw') return failed('thaw: VMM did not answer the resume request');
      if (s.vmsLost) return failed('thaw: no VMs left to resume');
      s.vmsPaused = false;
      s.vmsRunning = true;
      s.frozen = false;
      return OK;
    });
  }

  unpreserve(_ctx: StepContext): Promise<void> {
    return this.mutate('unpreserve', (s) => {
      if (s.faults.failStep === 'unpreserve') return failed('unpreserve: session busy');
      s.session = { open: false, preserved: [] };
      return OK;
    });
  }

  kexecUnload(_ctx: StepContext): Promise<void> {
    return this.mutate('kexec_unload', (s) => {
      if (s.faults.failStep === 'kexec_unload') return failed('kexec_unload: kexec_file_load(KEXEC_FILE_UNLOAD) failed');
      s.kexecLoaded = null;
      return OK;
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /**
   * Identity and incoming devices change only with a kexec, which only the worker holding the
   * host's fence issues; the rest (booting) is a matter of time, judged at each call. So once this
   * driver has changed the host, the record its store last saw (its own write, or a fresher one)
   * answers them as a fresh read would, without one. Before that, a read asks the host.
   */
  private read(step: SimulatedStep): Promise<SimulatedHostState> {
    return this.observe(step, () => (this.wrote ? this.peekOrUnreachable() : this.loadOrUnreachable()), (s) => s);
  }

  /** A read call: what the host says after the step's latency, if it answers by then. */
  private async observe<T>(step: SimulatedStep, load: () => Promise<T>, stateOf: (seen: T) => SimulatedHostState): Promise<T> {
    const call = (this.reads[step] = (this.reads[step] ?? 0) + 1);
    if (this.latency.scale !== 0) {
      const { seed } = await this.peekOrUnreachable();
      await this.wait(drawStepLatencyMs(this.latency, seed, this.hostId, step, call));
    }
    const seen = await load();
    if (isDown(stateOf(seen), this.clock())) throw new HostUnreachableError(`simulated host ${this.hostId} does not answer`);
    return seen;
  }

  /**
   * One mutating call: the host must be up; the call is counted and recorded even when it fails;
   * `apply` changes the record (it may run more than once, see SimulatedHostStore.update).
   */
  private mutate(step: MutatingStep, apply: (s: SimulatedHostState, now: number) => Outcome): Promise<void> {
    return this.latency.scale === 0 ? this.mutateAtOnce(step, apply) : this.mutateAfterLatency(step, apply);
  }

  private async mutateAfterLatency(step: MutatingStep, apply: (s: SimulatedHostState, now: number) => Outcome): Promise<void> {
    // Seed, faults and call counts do not change under us, and `update` checks the present state.
    const before = await this.peekOrUnreachable();
    if (isDown(before, this.clock())) throw new HostUnreachableError(`simulated host ${this.hostId} does not answer`);
    if (before.faults.hangStep === step) {
      await this.update(step, () => ({ result: 'hung' }));
      return hangForever();
    }
    await this.wait(drawStepLatencyMs(this.latency, before.seed, this.hostId, step, (before.calls[step] ?? 0) + 1));
    const error = await this.update(step, apply);
    if (error) throw error;
  }

  /**
   * With no latency there is nothing to wait for between reading and changing the host, so one
   * compare-and-set does both, in half the round trips.
   */
  private async mutateAtOnce(step: MutatingStep, apply: (s: SimulatedHostState, now: number) => Outcome): Promise<void> {
    let hung = false;
    const error = await this.update(step, (s, now) => {
      hung = s.faults.hangStep === step;
      return hung ? { result: 'hung' } : apply(s, now);
    });
    if (hung) return hangForever();
    if (error) throw error;
  }

  private async update(
    step: MutatingStep,
    apply: (s: SimulatedHostState, now: number) => Outcome,
  ): Promise<Error | undefined> {
    let error: Error | undefined;
    try {
      await this.store.update(this.hostId, (s) => {
        const now = this.clock();
        // It went down while we were working (another worker's kexec): this call never arrived.
        if (isDown(s, now)) throw new HostUnreachableError(`simulated host ${this.hostId} does not answer`);
        s.calls[step] = (s.calls[step] ?? 0) + 1;
        const outcome = apply(s, now);
        error = outcome.error;
        recordHistory(s, { step, at: now, result: outcome.result, ...(error ? { detail: error.message } : {}) });
        return s;
      });
      this.wrote = true;
    } catch (err) {
      if (err instanceof SimulatedHostNotFoundError) throw new HostUnreachableError(err.message);
      throw err;
    }
    return error;
  }

  private async loadOrUnreachable(): Promise<SimulatedHostState> {
    const state = await this.store.load(this.hostId);
    if (state === null) throw this.unregistered();
    return state;
  }

  private async peekOrUnreachable(): Promise<SimulatedHostState> {
    const state = await this.store.peek(this.hostId);
    if (state === null) throw this.unregistered();
    return state;
  }

  private async snapshotOrUnreachable(): Promise<SimulatedHostSnapshot> {
    const snapshot = await this.store.loadWithTopology(this.hostId);
    if (snapshot === null) throw this.unregistered();
    return snapshot;
  }

  private unregistered(): HostUnreachableError {
    return new HostUnreachableError(`no simulated host ${JSON.stringify(this.hostId)} is registered`);
  }

  private async wait(ms: number): Promise<void> {
    if (ms > 0) await this.sleep(ms);
  }
}

function failed(message: string): Outcome {
  return { result: 'failed', error: new StepFailedError(message) };
}

/** A drain that failed after moving `moved` (each now on its target): they are named in the error. */
function broken(message: string, moved: string[]): Outcome {
  return { result: 'failed', error: new DrainBrokenError(message, moved) };
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** A call that never answers; the timer is unref'd so a test (or worker) can still exit. */
function hangForever(): Promise<never> {
  return new Promise<never>(() => {
    setTimeout(() => undefined, 2 ** 31 - 1).unref();
  });
}
