import { describe, expect, it } from 'vitest';
import type { HandoverPlan } from './handover-plan';
import { HostUnreachableError, StepFailedError } from './host-driver';
import { foldJournal, InMemoryHandoverJournal, type JournalEntry } from './journal';
import { runHandover } from './handover-machine';
import { STRATEGY_PHASES, type HandoverStep } from './phases';
import { dyingJournal, fast, GPU_A, planFor, ScriptedHost, stepsOf, topologyOf } from './scripted-host.fixture';

const LIVE_UPDATE_PRE_KEXEC = STRATEGY_PHASES['live-update'].beforeKexec;

describe('runHandover', () => {
  it('updates a healthy host through every phase, in order', async () => {
    const host = new ScriptedHost();
    const journal = new InMemoryHandoverJournal();
    const plan = planFor(host);
    const outcome = await runHandover(host, journal, plan, fast);
    expect(outcome.outcome).toBe('updated');
    expect(outcome.kernelRelease).toBe('6.18.0-new');
    expect(outcome.bootId).toBe('boot-2');
    expect(outcome.blackoutMs).toBeGreaterThanOrEqual(0);
    expect(stepsOf(await journal.load(plan.handoverId))).toEqual([
      'precheck:ok',
      'kexec_load:ok',
      'preserve:ok',
      'freeze:ok',
      'kexec:ok',
      'await_boot:ok',
      'retrieve:ok',
      'finish:ok',
    ]);
    const validations = (await journal.load(plan.handoverId)).filter((e) => e.type === 'validation');
    expect(validations.map((v) => v.type === 'validation' && [v.stage, v.counts])).toEqual([
      ['precheck', [{ result: 'preservable', reason: 'none', count: 2 }]],
      ['retrieve', [{ result: 'preservable', reason: 'none', count: 2 }]],
    ]);
  });

  it('writes the start of each host step before calling the host, and the start of precheck with its end', async () => {
    const host = new ScriptedHost();
    const plan = planFor(host);
    // Each write with what the host had been asked to do when it was made.
    const writes: { entries: string[]; hostCalls: string[] }[] = [];
    class RecordingJournal extends InMemoryHandoverJournal {
      async appendMany(handoverId: string, entries: JournalEntry[]): Promise<void> {
        writes.push({ entries: entries.map((e) => `${e.type}${'step' in e ? `:${e.step}` : ''}`), hostCalls: [...host.calls] });
        for (const e of entries) await this.append(handoverId, e);
      }
    }
    expect((await runHandover(host, new RecordingJournal(), plan, fast)).outcome).toBe('updated');
    // Precheck only reads the host: one write holds its start, its verdict, its end and the next start.
    expect(writes[0].entries).toEqual(['step_start:precheck', 'validation', 'step_end:precheck', 'step_start:kexec_load']);
    for (const step of ['kexec_load', 'preserve', 'freeze', 'kexec', 'retrieve', 'finish']) {
      const w = writes.find((x) => x.entries.includes(`step_start:${step}`));
      expect(w, step).toBeDefined();
      expect(w!.hostCalls, `${step} was called before its start was written`).not.toContain(step);
    }
    // The host answered with its new boot id at the first question: await_boot went out whole,
    // with the kexec's end, in the write that starts retrieve.
    expect(writes.find((x) => x.entries.includes('step_start:await_boot'))!.entries).toEqual([
      'step_end:kexec',
      'step_start:await_boot',
      'step_end:await_boot',
      'step_start:retrieve',
    ]);
  });

  it('writes await_boot\'s start before it waits for a host that is still booting', async () => {
    const host = new ScriptedHost();
    const journal = new InMemoryHandoverJournal();
    const plan = planFor(host);
    // The host is down for two polls after the reboot; what the journal held at each wait.
    let polls = 0;
    const answer = host.identity.bind(host);
    host.identity = async () => {
      if (host.bootId === 'boot-2' && polls++ < 2) throw new HostUnreachableError('booting');
      return answer();
    };
    const atWaits: string[][] = [];
    const sleep = async () => {
      atWaits.push((await journal.load(plan.handoverId)).map((e) => `${e.type}${'step' in e ? `:${e.step}` : ''}`));
    };
    expect((await runHandover(host, journal, plan, { ...fast, sleep })).outcome).toBe('updated');
    expect(atWaits).toHaveLength(2);
    expect(atWaits[0].slice(-2)).toEqual(['step_end:kexec', 'step_start:await_boot']);
    // One start, however many polls.
    expect((await journal.load(plan.handoverId)).filter((e) => e.type === 'step_start' && e.step === 'await_boot')).toHaveLength(1);
  });

  it('polls the rebooting host with single attempts: the poll loop is the retry', async () => {
    const host = new ScriptedHost();
    const queries: unknown[] = [];
    const answer = host.identity.bind(host);
    host.identity = async (query) => {
      queries.push(query);
      return answer();
    };
    expect((await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast)).outcome).toBe('updated');
    // precheck and the fence's read, then await_boot's poll.
    expect(queries).toEqual([undefined, undefined, { once: true }]);
  });

  const undoFor: Record<string, string[]> = {
    precheck: [],
    kexec_load: ['kexec_unload'],
    preserve: ['unpreserve', 'kexec_unload'],
    freeze: ['thaw', 'unpreserve', 'kexec_unload'],
  };

  for (const phase of LIVE_UPDATE_PRE_KEXEC) {
    it(`rolls back exactly what was done when ${phase} fails`, async () => {
      const host = new ScriptedHost();
      const plan = planFor(host);
      if (phase === 'precheck') host.luo = false;
      else host.fail[phase] = new StepFailedError(`${phase} hook exited 1`);
      const journal = new InMemoryHandoverJournal();
      const outcome = await runHandover(host, journal, plan, fast);
      expect(outcome.outcome).toBe('rolled_back');
      expect(outcome.phase).toBe(phase);
      if (phase === 'precheck') expect(outcome.reasons).toEqual(['LUO_DISABLED']);
      const undone = host.calls.filter((c) => ['thaw', 'unpreserve', 'kexec_unload'].includes(c));
      expect(undone).toEqual(undoFor[phase]);
      expect(host.calls).not.toContain('kexec');
      expect(host.kernel).toBe('6.12.0-old');
    });
  }

  it('rolls back everything when the reboot syscall returns', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'returns';
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
    expect(host.calls.slice(-3)).toEqual(['thaw', 'unpreserve', 'kexec_unload']);
    expect(host.bootId).toBe('boot-1');
  });

  it('fails without rollback when the host never comes back', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'never_back';
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'await_boot', reasons: ['HOST_UNREACHABLE'] });
    expect(host.calls).not.toContain('thaw');
    expect(host.calls).not.toContain('unpreserve');
  });

  it('waits the whole boot timeout even when it is longer than the step timeout', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'never_back';
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), {
      ...fast,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      bootPollMs: 10,
      bootTimeoutMs: 200,
      stepTimeoutMs: 50,
    });
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'await_boot', reasons: ['HOST_UNREACHABLE'] });
  });

  it('still says HOST_UNREACHABLE when each identity poll of a down host is slow (a driver retrying)', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'never_back';
    const slowIdentity = host.identity.bind(host);
    host.identity = async () => {
      if (host.down) await new Promise((r) => setTimeout(r, 5_000));
      return slowIdentity();
    };
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), {
      ...fast,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      bootPollMs: 10,
      bootTimeoutMs: 300,
    });
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'await_boot', reasons: ['HOST_UNREACHABLE'] });
  });

  it('fails when the host comes back on its old kernel (the new one panicked)', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'old_kernel';
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'await_boot' });
    expect(outcome.error).toMatch(/6\.12\.0-old/);
    expect(host.calls).not.toContain('thaw');
  });

  it('decides by boot id when the kexec request itself gets no answer', async () => {
    const host = new ScriptedHost();
    host.onKexec = 'drops_connection';
    const journal = new InMemoryHandoverJournal();
    const plan = planFor(host);
    const outcome = await runHandover(host, journal, plan, fast);
    expect(outcome.outcome).toBe('updated');
    expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
    // The kexec's end is journaled (and so counted in the phase durations) though no answer came.
    const kexecEnd = (await journal.load(plan.handoverId)).find((e) => e.type === 'step_end' && e.step === 'kexec');
    expect(kexecEnd).toMatchObject({ ok: true, error: expect.stringMatching(/^no answer, the boot id decides: connection reset/) });
    expect(stepsOf(await journal.load(plan.handoverId))).toEqual(['precheck:ok', 'kexec_load:ok', 'preserve:ok', 'freeze:ok', 'kexec:ok', 'await_boot:ok', 'retrieve:ok', 'finish:ok']);
  });

  it('rolls back at kexec when the kexec request got no answer and the host kept its boot id', async () => {
    const host = new ScriptedHost();
    host.kexec = async (ctx) => {
      host.calls.push('kexec');
      host.contexts.set('kexec', ctx);
      throw new HostUnreachableError('no answer in time');
    };
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
    expect(outcome.error).toMatch(/still answers with boot id boot-1/);
    expect(host.calls.slice(-3)).toEqual(['thaw', 'unpreserve', 'kexec_unload']);
  });

  it('fails at retrieve with NOT_INCOMING when a preserved device did not come in', async () => {
    const host = new ScriptedHost();
    host.incomingOverride = [GPU_A];
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'retrieve', reasons: ['NOT_INCOMING'] });
    expect(host.calls).not.toContain('retrieve');
  });

  it('fails at retrieve with TOPOLOGY_DRIFT when the new kernel grouped a device differently', async () => {
    const host = new ScriptedHost();
    host.newTopo = topologyOf({}, { group: 10 });
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.phase).toBe('retrieve');
    expect(outcome.reasons).toEqual(expect.arrayContaining(['GROUP_NOT_SINGLETON', 'TOPOLOGY_DRIFT']));
  });

  it('rolls back with TOPOLOGY_DRIFT when a device was hot-plugged into a preserved group before precheck', async () => {
    const host = new ScriptedHost();
    const plan = planFor(host);
    host.topo = topologyOf({ '0000:3b:00.1': { group: 10 } });
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), plan, fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'precheck' });
    expect(outcome.reasons).toContain('TOPOLOGY_DRIFT');
    expect(outcome.error).toContain('0000:3b:00.1');
    expect(host.calls).toEqual([]);
  });

  it('rolls back instead of going on when the rollout is aborted before kexec', async () => {
    const host = new ScriptedHost();
    let steps = 0;
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), {
      ...fast,
      abortRequested: () => ++steps > 3,
    });
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'freeze' });
    expect(host.calls).toEqual(['kexec_load', 'preserve', 'unpreserve', 'kexec_unload']);
  });

  it('ignores an abort after the kexec: the host finishes', async () => {
    const host = new ScriptedHost();
    const journal = new InMemoryHandoverJournal();
    const plan = planFor(host);
    let aborted = false;
    const dying = {
      load: (id: string) => journal.load(id),
      append: async (id: string, e: JournalEntry) => {
        await journal.append(id, e);
        if (e.type === 'step_end' && e.step === 'kexec') aborted = true;
      },
    };
    const outcome = await runHandover(host, dying, plan, { ...fast, abortRequested: () => aborted });
    expect(outcome.outcome).toBe('updated');
  });

  it('cancels, touching nothing, a handover picked up after its start-by time', async () => {
    const host = new ScriptedHost();
    const plan = { ...planFor(host), startBy: Date.now() - 1 };
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), plan, fast);
    expect(outcome).toMatchObject({ outcome: 'cancelled' });
    expect(host.calls).toEqual([]);
  });

  it('skips a host that is not eligible under the plan, touching nothing', async () => {
    const host = new ScriptedHost();
    host.topo = topologyOf({}, {});
    host.topo = { ...host.topo, devices: host.topo.devices.map((d) => (d.bdf === GPU_A ? { ...d, isPhysfn: true, sriovTotalVfs: 8 } : d)) };
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host, [GPU_A]), fast);
    expect(outcome).toMatchObject({ outcome: 'skipped', reasons: ['IS_PHYSFN'] });
    expect(host.calls).toEqual([]);
  });

  it('fails at the undo step that cannot be undone, leaving the host for a person', async () => {
    const host = new ScriptedHost();
    host.fail.freeze = new StepFailedError('freeze failed');
    host.fail.unpreserve = new StepFailedError('session busy');
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host), fast);
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'unpreserve' });
    expect(host.calls).not.toContain('kexec_unload');
  });

  describe('resuming from a journal (a worker died)', () => {
    /** Dies right after journaling the start of `step` (for kexec: its fence, the last write before the reboot). */
    async function crashAt(step: HandoverStep | 'kexec_start', host: ScriptedHost, journal: InMemoryHandoverJournal, plan: HandoverPlan) {
      const dying = dyingJournal(journal, (e) =>
        step === 'kexec' ? e.type === 'kexec_fence' : e.type === 'step_start' && (e.step === step || (step === 'kexec_start' && e.step === 'kexec')),
      );
      await expect(runHandover(host, dying, plan, fast)).rejects.toThrow('SIGKILL');
    }

    for (const step of ['precheck', 'kexec_load', 'preserve', 'freeze', 'kexec', 'await_boot', 'retrieve', 'finish'] as const) {
      it(`resumes after a crash at ${step} and kexecs exactly once`, async () => {
        const host = new ScriptedHost();
        const journal = new InMemoryHandoverJournal();
        const plan = planFor(host);
        await crashAt(step, host, journal, plan);
        const outcome = await runHandover(host, journal, plan, fast);
        if (step === 'kexec') {
          // Died after the fence, before the reboot was issued: the boot id is unchanged, so it rolls back.
          expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
          expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(0);
        } else {
          expect(outcome.outcome).toBe('updated');
          expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
        }
        const progress = foldJournal(await journal.load(plan.handoverId));
        expect(progress.outcome?.outcome).toBe(outcome.outcome);
      });
    }

    it('goes on after a crash between the kexec\'s start and its fence (no reboot was issued), and kexecs once', async () => {
      const host = new ScriptedHost();
      const journal = new InMemoryHandoverJournal();
      const plan = planFor(host);
      await crashAt('kexec_start', host, journal, plan);
      expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(0);
      expect((await runHandover(host, journal, plan, fast)).outcome).toBe('updated');
      expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
    });

    it('returns the recorded outcome without touching the host again', async () => {
      const host = new ScriptedHost();
      const journal = new InMemoryHandoverJournal();
      const plan = planFor(host);
      await runHandover(host, journal, plan, fast);
      const before = host.calls.length;
      const again = await runHandover(host, journal, plan, fast);
      expect(again.outcome).toBe('updated');
      expect(host.calls.length).toBe(before);
    });

    it('continues a rollback that was interrupted half-way', async () => {
      const host = new ScriptedHost();
      host.fail.freeze = new StepFailedError('freeze failed');
      const journal = new InMemoryHandoverJournal();
      const plan = planFor(host);
      await crashAt('unpreserve', host, journal, plan);
      delete host.fail.freeze;
      const outcome = await runHandover(host, journal, plan, fast);
      expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'freeze' });
      expect(host.calls.filter((c) => c === 'thaw')).toHaveLength(1);
      expect(host.calls.slice(-2)).toEqual(['unpreserve', 'kexec_unload']);
      expect(host.calls).not.toContain('kexec');
    });
  });

  it('asks for identity and topology at once at precheck, and still reports LUO_DISABLED first', async () => {
    const host = new ScriptedHost();
    const plan = planFor(host);
    // Identity answers only once the topology was asked: a precheck asking one after the other would hang.
    let topologyAsked!: () => void;
    const asked = new Promise<void>((resolve) => (topologyAsked = resolve));
    const identity = host.identity.bind(host);
    host.identity = async () => {
      await asked;
      return identity();
    };
    const topology = host.topology.bind(host);
    host.topology = async () => {
      topologyAsked();
      return topology();
    };
    expect((await runHandover(host, new InMemoryHandoverJournal(), plan, { ...fast, stepTimeoutMs: 2_000 })).outcome).toBe('updated');

    const off = new ScriptedHost();
    off.luo = false;
    off.topology = async () => {
      throw new HostUnreachableError('topology read timed out');
    };
    const outcome = await runHandover(off, new InMemoryHandoverJournal(), planFor(new ScriptedHost()), fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'precheck', reasons: ['LUO_DISABLED'] });
  });
});
