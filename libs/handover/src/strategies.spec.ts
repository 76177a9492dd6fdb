import { describe, expect, it } from 'vitest';
import type { HandoverPlan } from './handover-plan';
import { StepFailedError } from './host-driver';
import { foldJournal, InMemoryHandoverJournal, strategyLabelOf } from './journal';
import { runHandover } from './handover-machine';
import { phasesOf, STRATEGIES, STRATEGY_PHASES, type Strategy } from './phases';
import { dyingJournal, fast, GPU_A, GPU_B, planFor, ScriptedHost, stepsOf } from './scripted-host.fixture';

const MIGRATIONS = [
  { vmId: 'vm-a', targetHostId: 'hv-2' },
  { vmId: 'vm-b', targetHostId: 'hv-3' },
];

/** Each strategy's plan on the scripted host: vm-b cannot ride the update under live-update-restart. */
function planOf(strategy: Strategy, host: ScriptedHost): HandoverPlan {
  switch (strategy) {
    case 'live-update':
      return planFor(host);
    case 'live-update-restart':
      return planFor(host, [GPU_A], { strategy, restartVms: ['vm-b'] });
    case 'evacuate':
      return planFor(host, [GPU_A, GPU_B], { strategy, migrations: MIGRATIONS });
  }
}

/** What the host is asked to undo when `phase` fails, in order: design 4.6's undo steps, the last phase's first. */
const UNDO_WHEN_FAILS: Record<Strategy, Record<string, string[]>> = {
  'live-update': {
    precheck: [],
    kexec_load: ['kexec_unload'],
    preserve: ['unpreserve', 'kexec_unload'],
    freeze: ['thaw', 'unpreserve', 'kexec_unload'],
    kexec: ['thaw', 'unpreserve', 'kexec_unload'],
  },
  'live-update-restart': {
    precheck: [],
    kexec_load: ['kexec_unload'],
    stop_vms: ['start_vms', 'kexec_unload'],
    preserve: ['unpreserve', 'start_vms', 'kexec_unload'],
    freeze: ['thaw', 'unpreserve', 'start_vms', 'kexec_unload'],
    kexec: ['thaw', 'unpreserve', 'start_vms', 'kexec_unload'],
  },
  evacuate: {
    precheck: [],
    drain: ['undrain'],
    kexec_load: ['kexec_unload', 'undrain'],
    kexec: ['kexec_unload', 'undrain'],
  },
};
const UNDO_STEPS = ['thaw', 'unpreserve', 'start_vms', 'kexec_unload', 'undrain'];

describe('strategies as data', () => {
  it('lists each strategy\'s phases as design 4.6 does', () => {
    expect(phasesOf('live-update')).toEqual(['precheck', 'kexec_load', 'preserve', 'freeze', 'kexec', 'await_boot', 'retrieve', 'finish']);
    expect(phasesOf('live-update-restart')).toEqual([
      'precheck', 'kexec_load', 'stop_vms', 'preserve', 'freeze', 'kexec', 'await_boot', 'retrieve', 'finish', 'start_vms',
    ]);
    expect(phasesOf('evacuate')).toEqual(['precheck', 'drain', 'kexec_load', 'kexec', 'await_boot', 'undrain']);
    for (const s of STRATEGIES) expect(STRATEGY_PHASES[s].afterKexec[0]).toBe('await_boot');
  });
});

describe('runHandover with a strategy', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy}: runs its phases in order and updates the host`, async () => {
      const host = new ScriptedHost();
      const journal = new InMemoryHandoverJournal();
      const plan = planOf(strategy, host);
      const outcome = await runHandover(host, journal, plan, fast);
      expect(outcome).toMatchObject({ outcome: 'updated', kernelRelease: '6.18.0-new', bootId: 'boot-2' });
      expect(stepsOf(await journal.load(plan.handoverId))).toEqual(phasesOf(strategy).map((p) => `${p}:ok`));
      expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
      expect(strategyLabelOf(outcome)).toBe(strategy);
      expect(host.inService).toBe(true);
    });
  }

  it('live-update-restart stops the VMs that cannot ride the update and starts them after finish', async () => {
    const host = new ScriptedHost();
    const journal = new InMemoryHandoverJournal();
    let clock = 0;
    const plan = planOf('live-update-restart', host);
    const startVms = host.startVms.bind(host);
    let runningAtFinish: string[] = [];
    host.finish = async (ctx) => {
      runningAtFinish = [...host.running];
      host.calls.push('finish');
      void ctx;
    };
    host.startVms = async (ctx) => {
      clock += 1_000; // starting VMs takes a while: it is not the preserved VMs' blackout
      return startVms(ctx);
    };
    const outcome = await runHandover(host, journal, plan, { ...fast, clock: () => clock });
    expect(outcome.outcome).toBe('updated');
    expect(runningAtFinish).toEqual(['vm-a']);
    expect(host.running.sort()).toEqual(['vm-a', 'vm-b']);
    expect(host.contexts.get('stop_vms')?.restartVms).toEqual(['vm-b']);
    expect(host.contexts.get('start_vms')?.restartVms).toEqual(['vm-b']);
    // Only the preserved devices ride the kexec.
    expect(host.preserved).toEqual([GPU_A]);
    expect(outcome.blackoutMs).toBe(0);
    expect(outcome.strategy).toBe('live-update-restart');
  });

  it('live-update-restart resumed after a crash in start_vms still ends the blackout at finish', async () => {
    const host = new ScriptedHost();
    const journal = new InMemoryHandoverJournal();
    const plan = planOf('live-update-restart', host);
    let clock = 0;
    const tick = () => (clock += 10);
    const dying = dyingJournal(journal, (e) => e.type === 'step_start' && e.step === 'start_vms');
    await expect(runHandover(host, dying, plan, { ...fast, clock: tick })).rejects.toThrow('SIGKILL');
    const progress = foldJournal(await journal.load(plan.handoverId));
    clock += 60_000; // the next worker picks the job up a minute later
    const outcome = await runHandover(host, journal, plan, { ...fast, clock: tick });
    expect(outcome.outcome).toBe('updated');
    expect(outcome.blackoutMs).toBe(progress.finishEndedAt! - progress.freezeStartedAt!);
    expect(outcome.blackoutMs).toBeLessThan(60_000);
  });

  it('evacuate migrates every VM to its target, preserves nothing, and needs no LUO', async () => {
    const host = new ScriptedHost();
    host.luo = false;
    const journal = new InMemoryHandoverJournal();
    const plan = planOf('evacuate', host);
    expect(plan.preservationSet.devices).toEqual([]);
    expect(plan.plannedDevices).toEqual([]);
    const outcome = await runHandover(host, journal, plan, fast);
    expect(outcome).toMatchObject({ outcome: 'updated', strategy: 'evacuate' });
    expect(outcome.blackoutMs).toBeUndefined();
    expect(host.migrated).toEqual(['vm-a', 'vm-b']);
    expect(host.running).toEqual([]);
    expect(host.contexts.get('drain')?.migrations).toEqual(MIGRATIONS);
    expect(host.calls).not.toContain('preserve');
    expect(host.calls).not.toContain('incoming');
    // Nothing preserved, so nothing judged: no validation entries.
    expect((await journal.load(plan.handoverId)).filter((e) => e.type === 'validation')).toEqual([]);
  });

  for (const strategy of STRATEGIES) {
    for (const [phase, undo] of Object.entries(UNDO_WHEN_FAILS[strategy])) {
      it(`${strategy}: rolls back exactly ${undo.join(', ') || 'nothing'} when ${phase} fails`, async () => {
        const host = new ScriptedHost();
        const plan = planOf(strategy, host);
        if (phase === 'precheck') host.down = true;
        else if (phase === 'kexec') host.onKexec = 'returns';
        else host.fail[phase] = new StepFailedError(`${phase} hook exited 1`);
        const journal = new InMemoryHandoverJournal();
        const outcome = await runHandover(host, journal, plan, fast);
        expect(outcome).toMatchObject({ outcome: 'rolled_back', phase });
        const undone = (await journal.load(plan.handoverId)).flatMap((e) =>
          e.type === 'step_end' && e.ok && UNDO_STEPS.includes(e.step) ? [e.step] : [],
        );
        expect(undone).toEqual(undo);
        expect(host.calls.filter((c) => UNDO_STEPS.includes(c))).toEqual(undo);
        expect(host.kernel).toBe('6.12.0-old');
        expect(host.bootId).toBe('boot-1');
        expect(host.inService).toBe(true);
        // Every VM runs, here or (migrated) elsewhere.
        expect([...host.running, ...host.migrated].sort()).toEqual(['vm-a', 'vm-b']);
        expect(host.stopped).toEqual([]);
      });
    }
  }

  it('evacuate: a drain that fails midway leaves the migrated VMs where they went and returns the host to service', async () => {
    const host = new ScriptedHost();
    host.drainMovesBeforeFailing = 1;
    const journal = new InMemoryHandoverJournal();
    const outcome = await runHandover(host, journal, planOf('evacuate', host), fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'drain', strategy: 'evacuate' });
    expect(host.migrated).toEqual(['vm-a']);
    expect(host.running).toEqual(['vm-b']);
    expect(host.calls).toEqual(['drain', 'undrain']);
    expect(host.inService).toBe(true);
  });

  for (const strategy of STRATEGIES) {
    for (const phase of STRATEGY_PHASES[strategy].afterKexec.filter((p) => p !== 'await_boot')) {
      it(`${strategy}: a failure at ${phase}, after the kexec, ends failed and is never kexeced again`, async () => {
        const host = new ScriptedHost();
        const plan = planOf(strategy, host);
        host.fail[phase] = new StepFailedError(`${phase} hook exited 1`);
        const journal = new InMemoryHandoverJournal();
        const outcome = await runHandover(host, journal, plan, fast);
        expect(outcome).toMatchObject({ outcome: 'failed', phase });
        expect(host.calls.filter((c) => UNDO_STEPS.includes(c) && c !== phase)).toEqual([]);
        // Another worker picking the job up finds the outcome and does nothing.
        delete host.fail[phase];
        const again = await runHandover(host, journal, plan, fast);
        expect(again).toEqual(outcome);
        expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
      });
    }

    it(`${strategy}: a host that never comes back ends failed at await_boot, nothing undone`, async () => {
      const host = new ScriptedHost();
      host.onKexec = 'never_back';
      const outcome = await runHandover(host, new InMemoryHandoverJournal(), planOf(strategy, host), fast);
      expect(outcome).toMatchObject({ outcome: 'failed', phase: 'await_boot', reasons: ['HOST_UNREACHABLE'] });
      expect(host.calls.filter((c) => UNDO_STEPS.includes(c))).toEqual([]);
      expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
    });
  }

  describe('resuming from a journal (a worker died)', () => {
    for (const strategy of STRATEGIES) {
      for (const phase of phasesOf(strategy).filter((p) => p !== 'kexec' && p !== 'precheck' && p !== 'await_boot')) {
        it(`${strategy}: resumes after a crash at ${phase} and kexecs exactly once`, async () => {
          const host = new ScriptedHost();
          const journal = new InMemoryHandoverJournal();
          const plan = planOf(strategy, host);
          const dying = dyingJournal(journal, (e) => e.type === 'step_start' && e.step === phase);
          await expect(runHandover(host, dying, plan, fast)).rejects.toThrow('SIGKILL');
          const outcome = await runHandover(host, journal, plan, fast);
          expect(outcome.outcome).toBe('updated');
          expect(host.calls.filter((c) => c === 'kexec')).toHaveLength(1);
          expect(foldJournal(await journal.load(plan.handoverId)).outcome?.outcome).toBe('updated');
        });
      }

      it(`${strategy}: a crash between the fence and the reboot rolls back by boot id, never kexecing`, async () => {
        const host = new ScriptedHost();
        const journal = new InMemoryHandoverJournal();
        const plan = planOf(strategy, host);
        const dying = dyingJournal(journal, (e) => e.type === 'kexec_fence');
        await expect(runHandover(host, dying, plan, fast)).rejects.toThrow('SIGKILL');
        const outcome = await runHandover(host, journal, plan, fast);
        expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
        expect(host.calls).not.toContain('kexec');
        expect(host.calls.filter((c) => UNDO_STEPS.includes(c))).toEqual(UNDO_WHEN_FAILS[strategy].kexec);
      });
    }
  });
});

describe('the default strategy', () => {
  it('keeps a Live Update\'s plan, step requests and outcome as they were before strategies', async () => {
    const host = new ScriptedHost();
    const plan = planFor(host);
    expect(Object.keys(plan)).toEqual(['handoverId', 'hostId', 'rolloutId', 'targetKernel', 'profile', 'strictAcs', 'preservationSet', 'plannedDevices']);
    const explicit = planFor(host, [GPU_A, GPU_B], { strategy: 'live-update' });
    expect(explicit).toEqual(plan);
    const journal = new InMemoryHandoverJournal();
    const outcome = await runHandover(host, journal, plan, fast);
    expect(Object.keys(host.contexts.get('preserve')!)).toEqual(['handoverId', 'hostId', 'rolloutId', 'targetKernel', 'preservationSet', 'requestId']);
    expect('strategy' in outcome).toBe(false);
    expect(strategyLabelOf(outcome)).toBe('live-update');
  });

  it('labels a skipped host `skip`', async () => {
    const host = new ScriptedHost();
    host.topo = { ...host.topo, devices: host.topo.devices.map((d) => (d.bdf === GPU_A ? { ...d, isPhysfn: true, sriovTotalVfs: 8 } : d)) };
    const outcome = await runHandover(host, new InMemoryHandoverJournal(), planFor(host, [GPU_A]), fast);
    expect(outcome.outcome).toBe('skipped');
    expect(strategyLabelOf(outcome)).toBe('skip');
  });
});
