import type { HostTopology } from '@luo-fleet/topology';
import type { PreservationSet } from '@luo-fleet/preservation';
import type { VmMigration } from './handover-plan';
import type { Strategy } from './phases';

/** What a host says about itself; the boot id is what decides whether a kexec took effect. */
export interface HostIdentity {
  bootId: string;
  kernelRelease: string;
  /** `/dev/liveupdate` exists and the running kernel's command line has `liveupdate=on kho=on`. */
  luoEnabled: boolean;
}

/** Everything a host-side step needs; `requestId` is stable across retries of the same step of the same handover. */
export interface StepContext {
  handoverId: string;
  hostId: string;
  rolloutId: string;
  targetKernel: string;
  preservationSet: PreservationSet;
  requestId: string;
  /** Present only for a strategy other than `live-update`, whose steps carry nothing more. */
  strategy?: Strategy;
  /** `live-update-restart`: the VMs `stop_vms` stops and `start_vms` starts again, by id. */
  restartVms?: string[];
  /** `evacuate`: where `drain` live-migrates each VM. */
  migrations?: VmMigration[];
}

/** Devices the new kernel reports as preserved by the previous one (`liveupdate_incoming`). */
export interface RetrieveReport {
  incoming: string[];
}

/**
 * One host, as the orchestrator drives it. Implementations: the simulated host (embedded default)
 * and the agent over HTTP. Every method except `kexec` must be safe to call again with the same
 * `requestId` (at-least-once delivery): the machine never calls `kexec` twice for one handover.
 *
 * Errors: throw `HostUnreachableError` when the host does not answer, `StepFailedError` when it
 * answered that the step failed, `KexecReturnedError` from `kexec` when the reboot syscall returned.
 */
/** How `identity` is asked. */
export interface IdentityQuery {
  /**
   * One attempt, none of the driver's own retries: for a caller that asks again anyway (the boot
   * poll), whose next poll comes sooner than a retry's backoff would.
   */
  once?: boolean;
}

export interface HostDriver {
  identity(query?: IdentityQuery): Promise<HostIdentity>;
  topology(): Promise<HostTopology>;
  kexecLoad(ctx: StepContext): Promise<void>;
  preserve(ctx: StepContext): Promise<void>;
  freeze(ctx: StepContext): Promise<void>;
  /** Resolves once the reboot was issued (the host goes away); rejects with KexecReturnedError if it returned. */
  kexec(ctx: StepContext): Promise<void>;
  /** In the new kernel: which devices came in preserved. */
  incoming(ctx: StepContext): Promise<RetrieveReport>;
  retrieve(ctx: StepContext): Promise<void>;
  finish(ctx: StepContext): Promise<void>;
  thaw(ctx: StepContext): Promise<void>;
  unpreserve(ctx: StepContext): Promise<void>;
  kexecUnload(ctx: StepContext): Promise<void>;
  /**
   * The VM steps of design 4.6, for hosts that run other strategies than `live-update`. A host
   * that cannot carry one out (an agent without the hook) fails that step, and the handover rolls
   * back what it did.
   *
   * `stopVms` stops `ctx.restartVms` cleanly; `startVms` starts them again (after `finish`, or to
   * undo `stopVms`; a VM already running is left alone). `drain` takes the host out of service and
   * live-migrates every VM to its target in `ctx.migrations`; `undrain` returns the host to service
   * (after the kexec, or to undo `drain`: VMs already migrated stay where they are, running).
   * A drain that breaks after moving some VMs throws `DrainBrokenError` naming them, so that they
   * are counted `migrated` and the inventory shows them where they went.
   */
  stopVms(ctx: StepContext): Promise<void>;
  startVms(ctx: StepContext): Promise<void>;
  drain(ctx: StepContext): Promise<void>;
  undrain(ctx: StepContext): Promise<void>;
}

export class HostUnreachableError extends Error {
  override name = 'HostUnreachableError';
}
export class StepFailedError extends Error {
  override name = 'StepFailedError';
}
/**
 * `drain` failed after some VMs reached their targets: `migrated` names them (by the plan's VM
 * ids), those and only those run elsewhere now. A drain that cannot say throws StepFailedError.
 */
export class DrainBrokenError extends StepFailedError {
  override name = 'DrainBrokenError';
  constructor(
    message: string,
    readonly migrated: string[],
  ) {
    super(message);
  }
}
export class KexecReturnedError extends Error {
  override name = 'KexecReturnedError';
}
