import type { RecordedHandover } from '../support/metrics-record-handovers';

type Entry = RecordedHandover['entries'][number];

const step = (name: string, ms: number, ok = true): Entry[] =>
  [
    { type: 'step_start', step: name },
    { type: 'step_end', step: name, ok, durationMs: ms },
  ] as Entry[];

const updatedSteps = (): Entry[] =>
  ['precheck', 'kexec_load', 'preserve', 'freeze', 'kexec', 'await_boot', 'retrieve', 'finish'].flatMap((s) => step(s, 2));

/** Precheck finds 2 preservable devices and 1 VF; every phase takes 2 ms; blackout 300 ms. */
export function updatedHost(hostId: string): RecordedHandover {
  return {
    hostId,
    entries: [
      {
        type: 'validation',
        stage: 'precheck',
        counts: [
          { result: 'preservable', reason: 'none', count: 2 },
          { result: 'rejected', reason: 'IS_VIRTFN', count: 1 },
        ],
      },
      ...updatedSteps(),
      { type: 'outcome', outcome: 'updated', reasons: [], blackoutMs: 300 },
    ],
  };
}

/** `preserve` fails after 700 ms; kexec_load took 20 ms; undone by unpreserve and kexec_unload. */
export function rolledBackHost(hostId: string): RecordedHandover {
  return {
    hostId,
    entries: [
      { type: 'validation', stage: 'precheck', counts: [{ result: 'rejected', reason: 'GROUP_NOT_SINGLETON', count: 1 }] },
      ...step('precheck', 2),
      ...step('kexec_load', 20),
      ...step('preserve', 700, false),
      { type: 'rollback_begin', phase: 'preserve', reasons: [] },
      ...step('unpreserve', 3),
      ...step('kexec_unload', 3),
      { type: 'outcome', outcome: 'rolled_back', phase: 'preserve', reasons: [] },
    ],
  };
}

/** Retrieve fails after kexec: one device was not incoming. */
export function failedHost(hostId: string): RecordedHandover {
  return {
    hostId,
    entries: [
      ...['precheck', 'kexec_load', 'preserve', 'freeze', 'kexec', 'await_boot'].flatMap((s) => step(s, 2)),
      { type: 'validation', stage: 'retrieve', counts: [{ result: 'rejected', reason: 'NOT_INCOMING', count: 1 }] },
      ...step('retrieve', 2, false),
      { type: 'outcome', outcome: 'failed', phase: 'retrieve', reasons: ['NOT_INCOMING'] },
    ],
  };
}

export function skippedHost(hostId: string): RecordedHandover {
  return {
    hostId,
    entries: [
      { type: 'validation', stage: 'plan', counts: [{ result: 'rejected', reason: 'IS_PHYSFN', count: 3 }] },
      { type: 'outcome', outcome: 'skipped', reasons: ['IS_PHYSFN'] },
    ],
  };
}

/** A host that entered `freeze` `agoMs` ago and has not moved since. */
export function stuckHost(hostId: string, agoMs: number): RecordedHandover {
  return { hostId, atOffsetMs: agoMs, entries: [{ type: 'step_start', step: 'freeze' }] };
}
