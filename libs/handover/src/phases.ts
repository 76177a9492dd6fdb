/** Handover phases, undo steps, strategies and outcomes: design 4.2 and 4.6, fixed contract. */

/**
 * Every phase some strategy runs before the point of no return, in the order they run; a failure
 * in any of them is rolled back. Each strategy runs a subsequence (STRATEGY_PHASES).
 */
export const PRE_KEXEC_PHASES = ['precheck', 'drain', 'kexec_load', 'stop_vms', 'preserve', 'freeze'] as const;
/** Phases after kexec took effect; a failure here leaves the host `failed`, nothing is rolled back. */
export const POST_KEXEC_PHASES = ['await_boot', 'retrieve', 'finish', 'start_vms', 'undrain'] as const;
export const HANDOVER_PHASES = [...PRE_KEXEC_PHASES, 'kexec', ...POST_KEXEC_PHASES] as const;
export type HandoverPhase = (typeof HANDOVER_PHASES)[number];
export type PreKexecPhase = (typeof PRE_KEXEC_PHASES)[number];
export type PostKexecPhase = (typeof POST_KEXEC_PHASES)[number];

/** The steps that only ever undo a phase (`start_vms` and `undrain` undo too, but are phases as well). */
export const ROLLBACK_STEPS = ['thaw', 'unpreserve', 'kexec_unload'] as const;
/** A step that undoes a pre-kexec phase. */
export type RollbackStep = (typeof ROLLBACK_STEPS)[number] | 'start_vms' | 'undrain';

export type HandoverStep = HandoverPhase | RollbackStep;

/**
 * The rollback step that undoes each pre-kexec phase. A phase that *started* is undone even if it
 * failed half-way (a VMM may have preserved three of five fds before an error, a drain may have
 * moved two VMs of five): every undo step is safe on a host where its phase did nothing. `undrain`
 * returns the host to service; VMs already migrated stay where they are, running.
 */
export const UNDO_OF: Readonly<Partial<Record<PreKexecPhase, RollbackStep>>> = {
  drain: 'undrain',
  kexec_load: 'kexec_unload',
  stop_vms: 'start_vms',
  preserve: 'unpreserve',
  freeze: 'thaw',
};

/** The strategies a rollout may allow, each a way to bring a host to the target kernel (design 4.6). */
export const STRATEGIES = ['live-update', 'live-update-restart', 'evacuate'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** What a rollout allows when it names no strategies: today's Live Update and nothing else. */
export const DEFAULT_STRATEGY: Strategy = 'live-update';
/** What the plan gives a host: a strategy, or `skip` (no phases) when none applies. */
export type HostStrategy = Strategy | 'skip';
export const HOST_STRATEGIES = [...STRATEGIES, 'skip'] as const satisfies readonly HostStrategy[];

export interface StrategyPhases {
  /** Up to the kexec, in order; a failure rolls back, in reverse, every one that started. */
  beforeKexec: readonly PreKexecPhase[];
  /** After the kexec took effect, in order; `await_boot` is always first. */
  afterKexec: readonly PostKexecPhase[];
  /**
   * Devices ride the kexec (the plan's preservation set): precheck and retrieve judge them, and
   * LUO must be on in both kernels. An evacuation preserves nothing and needs no LUO.
   */
  preserves: boolean;
}

/**
 * Each strategy's phases (design 4.6), `kexec` between the two lists. The kexec fence and the
 * boot-id rule are the same for every strategy.
 */
export const STRATEGY_PHASES: Readonly<Record<Strategy, StrategyPhases>> = {
  'live-update': {
    beforeKexec: ['precheck', 'kexec_load', 'preserve', 'freeze'],
    afterKexec: ['await_boot', 'retrieve', 'finish'],
    preserves: true,
  },
  // The VMs that cannot ride the update are stopped cleanly after the kernel is staged (a failed
  // load costs them nothing) and started once the preserved ones are back.
  'live-update-restart': {
    beforeKexec: ['precheck', 'kexec_load', 'stop_vms', 'preserve', 'freeze'],
    afterKexec: ['await_boot', 'retrieve', 'finish', 'start_vms'],
    preserves: true,
  },
  // Every VM is live-migrated away first, then a plain kexec; the empty host returns to service.
  evacuate: {
    beforeKexec: ['precheck', 'drain', 'kexec_load'],
    afterKexec: ['await_boot', 'undrain'],
    preserves: false,
  },
};

/** Every phase of `strategy`, in order, `kexec` included. */
export function phasesOf(strategy: Strategy): HandoverPhase[] {
  const p = STRATEGY_PHASES[strategy];
  return [...p.beforeKexec, 'kexec', ...p.afterKexec];
}

/**
 * Why a strategy does not apply to a host (design 4.6), beside the device (4.1), VM (4.5) and
 * host (4.1) codes: `RESTART_BUDGET` the rollout's `maxVmRestarts` is spent, `VM_NOT_MIGRATABLE` a
 * VM cannot be live-migrated, `NO_CAPACITY` no room for its VMs elsewhere before the cutoff,
 * `HELD` the host is on hold.
 */
export const STRATEGY_REASONS = ['RESTART_BUDGET', 'VM_NOT_MIGRATABLE', 'NO_CAPACITY', 'HELD'] as const;
export type StrategyReason = (typeof STRATEGY_REASONS)[number];

export const HOST_OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'] as const;
export type HostOutcome = (typeof HOST_OUTCOMES)[number];

/**
 * The Live Update's steps that a HostDriver carries out on the host itself: every phase and
 * rollback step of design 4.2 except `precheck` and `await_boot`, which are the orchestrator's own
 * checks (reads of identity and topology). The simulated host, the agent and its hooks all speak
 * these.
 */
export const HOST_STEPS = ['kexec_load', 'preserve', 'freeze', 'kexec', 'retrieve', 'finish', 'thaw', 'unpreserve', 'kexec_unload'] as const satisfies readonly HandoverStep[];
export type HostStep = (typeof HOST_STEPS)[number];

/**
 * The steps that stop, start or move a host's VMs (design 4.6): phases of `live-update-restart`
 * and `evacuate`, and the undo steps of `stop_vms` and `drain`. The agent speaks them; a driver
 * that cannot carry them out fails the step, so such a host can only be live-updated.
 */
export const VM_STEPS = ['stop_vms', 'start_vms', 'drain', 'undrain'] as const satisfies readonly HandoverStep[];
export type VmStep = (typeof VM_STEPS)[number];
