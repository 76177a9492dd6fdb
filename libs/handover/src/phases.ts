/** Handover phases, rollback steps and outcomes: design 4.2, fixed contract. */

/** Phases before the point of no return, in order; a failure in any of them is rolled back. */
export const PRE_KEXEC_PHASES = ['precheck', 'kexec_load', 'preserve', 'freeze'] as const;
/** Phases after kexec took effect; a failure here leaves the host `failed`, nothing is rolled back. */
export const POST_KEXEC_PHASES = ['await_boot', 'retrieve', 'finish'] as const;
export const HANDOVER_PHASES = [...PRE_KEXEC_PHASES, 'kexec', ...POST_KEXEC_PHASES] as const;
export type HandoverPhase = (typeof HANDOVER_PHASES)[number];

export const ROLLBACK_STEPS = ['thaw', 'unpreserve', 'kexec_unload'] as const;
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];

export type HandoverStep = HandoverPhase | RollbackStep;

/**
 * The rollback step that undoes each pre-kexec phase. A phase that *started* is undone even if it
 * failed half-way (a VMM may have preserved three of five fds before an error): every undo step is
 * safe on a host where its phase did nothing.
 */
export const UNDO_OF: Partial<Record<HandoverPhase, RollbackStep>> = {
  kexec_load: 'kexec_unload',
  preserve: 'unpreserve',
  freeze: 'thaw',
};

export const HOST_OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'] as const;
export type HostOutcome = (typeof HOST_OUTCOMES)[number];

/**
 * The steps a HostDriver carries out on the host itself: every phase and rollback step except
 * `precheck` and `await_boot`, which are the orchestrator's own checks (reads of identity and
 * topology). The simulated host, the agent and its hooks all speak exactly these.
 */
export const HOST_STEPS = ['kexec_load', 'preserve', 'freeze', 'kexec', 'retrieve', 'finish', 'thaw', 'unpreserve', 'kexec_unload'] as const satisfies readonly HandoverStep[];
export type HostStep = (typeof HOST_STEPS)[number];
