import { STRATEGY_PHASES, type Strategy } from '@luo-fleet/handover';
import { bootIdOf, isDown, type SimulatedHostState } from '@luo-fleet/simulated-host';
import { RUNNING_KERNEL, TARGET_KERNEL, type FleetHost } from './chaos-fleet';

/**
 * A host's outcome as its own record tells it, without asking the orchestrator:
 * - skipped: never planned (no simulated record: the rollout creates one for eligible hosts only);
 * - untouched: planned, never changed (cancelled, or rolled back at precheck);
 * - updated, rolled_back, failed: as design 4.2 defines them, checked field by field;
 * - broken: none of these (stuck half-way, or an inconsistent record); `problems` says why.
 */
export type HostTruth = 'skipped' | 'untouched' | 'updated' | 'rolled_back' | 'failed' | 'broken';

export interface HostVerdict {
  truth: HostTruth;
  problems: string[];
}

/** `strategy`: the one the plan gave the host (its steps decide what a finished host looks like). */
export function hostTruth(host: FleetHost, rec: SimulatedHostState | null, strategy: Strategy = 'live-update'): HostVerdict {
  if (rec === null) return { truth: 'skipped', problems: [] };
  const calls = Object.values(rec.calls).reduce((a, b) => a + (b ?? 0), 0);
  const originalBoot = bootIdOf(rec.seed, rec.hostId, 0);
  const kexecs = rec.calls.kexec ?? 0;
  const healthyOld = (): string[] => {
    const p: string[] = [];
    if (rec.kernelRelease !== RUNNING_KERNEL) p.push(`kernel ${rec.kernelRelease}, expected the old ${RUNNING_KERNEL}`);
    if (rec.bootId !== originalBoot) p.push('boot id changed: it rebooted');
    if (!rec.vmsRunning || rec.vmsPaused || rec.vmsLost) p.push(`VMs not running (running=${rec.vmsRunning} paused=${rec.vmsPaused} lost=${rec.vmsLost})`);
    if (rec.frozen) p.push('still frozen');
    if (rec.session.open || rec.session.preserved.length > 0) p.push(`live-update session left open (${rec.session.preserved.length} preserved)`);
    if (rec.kexecLoaded !== null) p.push(`kexec image ${rec.kexecLoaded} left loaded`);
    if (rec.drained) p.push('left out of service (drained)');
    if ((rec.stoppedVms ?? []).length > 0) p.push(`VMs left stopped: ${rec.stoppedVms!.join(',')}`);
    return p;
  };
  if (calls === 0) {
    const p = healthyOld();
    return { truth: p.length === 0 ? 'untouched' : 'broken', problems: p };
  }
  const rebooted = rec.bootId !== originalBoot || rec.down === 'forever';
  if (rebooted && rec.kernelRelease === TARGET_KERNEL) {
    const p: string[] = [];
    if (kexecs !== 1) p.push(`kexec called ${kexecs} times`);
    if (isDown(rec, Date.now())) p.push('not answering');
    if (!rec.vmsRunning || rec.vmsPaused) p.push(`VMs not running (running=${rec.vmsRunning} paused=${rec.vmsPaused})`);
    // Each step after the kexec last answered ok (a start_vms with no VM to start can still fail).
    for (const step of STRATEGY_PHASES[strategy].afterKexec) {
      const last = rec.history.findLast((e) => e.step === step);
      if (last && last.result !== 'ok') p.push(`${step} ${last.result}: ${last.detail ?? ''}`);
    }
    if (strategy === 'evacuate') {
      // Nothing was preserved: the empty host booted and went back into service.
      if (rec.drained) p.push('not back in service (still drained)');
    } else {
      if (!rec.finished) p.push('session not finished');
      // A live-update-restart preserves the devices of the VMs that ride it: every one that came in.
      const wanted = strategy === 'live-update' ? host.preservable : rec.incoming;
      const missing = wanted.filter((b) => !rec.retrieved.includes(b));
      if (missing.length > 0) p.push(`preserved devices not retrieved: ${missing.join(',')}`);
      if ((rec.stoppedVms ?? []).length > 0) p.push(`VMs left stopped: ${rec.stoppedVms!.join(',')}`);
    }
    if (p.length === 0) return { truth: 'updated', problems: [] };
    // The kexec took effect but the host is not done: failed (it waits for a person), if it was kexec'd once.
    return kexecs === 1 ? { truth: 'failed', problems: p } : { truth: 'broken', problems: p };
  }
  if (rebooted) {
    // Came back on its old kernel (panic fallback), or not at all.
    return kexecs === 1 ? { truth: 'failed', problems: ['rebooted onto the old kernel'] } : { truth: 'broken', problems: [`rebooted with kexec called ${kexecs} times`] };
  }
  const p = healthyOld();
  return p.length === 0 ? { truth: 'rolled_back', problems: [] } : { truth: 'broken', problems: p };
}

/**
 * The outcome a host's injected fault must lead to under its strategy, unless the rollout stopped
 * before it started. A fault in a step the strategy does not run changes nothing.
 */
export function outcomeOfFaults(rec: SimulatedHostState, strategy: Strategy = 'live-update'): 'updated' | 'rolled_back' | 'failed' {
  const f = rec.faults;
  const phases = STRATEGY_PHASES[strategy];
  const before = (step: string) => (phases.beforeKexec as readonly string[]).includes(step);
  const after = (step: string) => (phases.afterKexec as readonly string[]).includes(step);
  if (f.failStep && before(f.failStep)) return 'rolled_back';
  if (f.hangStep && before(f.hangStep)) return 'rolled_back';
  if (f.rebootReturnsError) return 'rolled_back';
  // An undo step's fault (thaw, unpreserve, kexec_unload) matters only in a rollback, which these faults do not cause.
  if (f.failStep && after(f.failStep)) return 'failed';
  if (f.retrieveFails && phases.preserves) return 'failed';
  if (f.neverReturns || f.panicFallback) return 'failed';
  return 'updated';
}

/** Whether an orchestrator outcome agrees with what the host says. */
export function agrees(outcome: string, truth: HostTruth, phase: string | undefined): boolean {
  switch (truth) {
    case 'skipped':
      return outcome === 'skipped';
    case 'untouched':
      // A skipped host has a record when it may take evacuated VMs: nothing ran on it either.
      return outcome === 'cancelled' || outcome === 'skipped' || (outcome === 'rolled_back' && phase === 'precheck');
    case 'updated':
    case 'rolled_back':
    case 'failed':
      return outcome === truth;
    case 'broken':
      return false;
  }
}

