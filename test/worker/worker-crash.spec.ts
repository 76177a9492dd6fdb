import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phasesOf, type HandoverPlan, type JournalEntry } from '@luo-fleet/handover';
import { MUTATING_STEPS } from '@luo-fleet/simulated-host';
import { redisNamespace, type RedisNamespace } from '../support/redis-namespace';
import { waitFor, type AppProcess } from '../support/app-process';
import { HandoverHarness, TARGET_KERNEL } from './handover-fixture';

/** Steps that may legitimately run twice when a worker dies in them: all but the kexec itself. */
const REPEATABLE = MUTATING_STEPS.filter((s) => s !== 'kexec');

/**
 * Real worker processes killed with SIGKILL in the middle of each phase: the next worker resumes
 * from the journal, the host is kexec'd at most once, and only repeatable steps ran twice.
 */
describe('worker killed mid-handover', () => {
  let ns: RedisNamespace;
  let h: HandoverHarness;
  let worker: AppProcess;
  const env = { SIM_FIXED_LATENCY_MS: '250' };

  beforeAll(() => {
    ns = redisNamespace('crash');
    h = new HandoverHarness(ns);
    worker = h.startWorker(env);
  });

  afterAll(async () => {
    await h.close();
    await ns.drop();
  });

  async function killWhen(plan: HandoverPlan, inStep: (state: string | null) => boolean): Promise<void> {
    await waitFor(`${plan.hostId} to reach the kill point`, async () => inStep(await ns.redis.hget(h.keys.hostStates(plan.rolloutId), plan.hostId)), 30_000, 5);
    await killSoon();
  }

  /**
   * Precheck's start is journaled with its end, so no state names it: a worker is in it once it
   * holds the host (the journal's first read installed the lease's copy) and has written nothing.
   */
  async function killInPrecheck(plan: HandoverPlan): Promise<void> {
    const inPrecheck = async () =>
      (await ns.redis.exists(h.keys.handoverLease(plan.rolloutId, plan.hostId))) === 1 && (await ns.redis.llen(h.keys.journal(plan.rolloutId, plan.hostId))) === 0;
    await waitFor(`${plan.hostId} to be in precheck`, inPrecheck, 30_000, 5);
    await killSoon();
    // The kill landed in precheck (it takes 250 ms here): nothing of it was written.
    expect(await ns.redis.llen(h.keys.journal(plan.rolloutId, plan.hostId))).toBe(0);
  }

  /**
   * await_boot's start is written with its end when the host answers with its new boot id at the
   * first question, as here (the boot takes no longer than the question): a worker is in it from
   * the reboot on, while the host's state still says kexec.
   */
  async function killInAwaitBoot(plan: HandoverPlan): Promise<void> {
    await waitFor(`${plan.hostId} to reboot`, async () => ((await h.hostState(plan.hostId)).calls.kexec ?? 0) >= 1, 30_000, 5);
    await killSoon();
    // The kill landed in await_boot's question (it takes 250 ms here): the kexec is the last step written.
    const started = (await h.journal(plan)).filter((e) => e.type === 'step_start').map((e) => e.type === 'step_start' && e.step);
    expect(started.at(-1)).toBe('kexec');
  }

  async function killSoon(): Promise<void> {
    await new Promise((r) => setTimeout(r, 100));
    await worker.kill('SIGKILL');
    worker = h.startWorker(env);
  }

  function overlapFree(entries: JournalEntry[]): boolean {
    // Each step_start is followed by its own step_end or by nothing (the kill): never by another step's start then an end of the first.
    let open: string | null = null;
    for (const e of entries) {
      if (e.type === 'step_start') open = e.step;
      if (e.type === 'step_end') {
        if (open !== e.step) return false;
        open = null;
      }
    }
    return true;
  }

  for (const phase of phasesOf('live-update').filter((p) => p !== 'kexec')) {
    it(`finishes the host after a kill during ${phase}`, async () => {
      const plan = await h.host(`hv-kill-${phase}`);
      await h.enqueue(plan);
      if (phase === 'precheck') await killInPrecheck(plan);
      else if (phase === 'await_boot') await killInAwaitBoot(plan);
      else await killWhen(plan, (s) => s === phase);
      const outcome = await h.outcome(plan, 60_000);
      expect({ outcome: outcome.outcome, phase: outcome.phase, error: outcome.error }).toMatchObject({ outcome: 'updated' });
      const host = await h.hostState(plan.hostId);
      expect(host.kernelRelease).toBe(TARGET_KERNEL);
      expect(host.calls.kexec).toBe(1);
      for (const [step, n] of Object.entries(host.calls)) if (n > 1) expect(REPEATABLE).toContain(step);
      expect(overlapFree(await h.journal(plan))).toBe(true);
    });
  }

  it('rolls back, never re-issuing kexec, after a kill between the fence and the reboot', async () => {
    const plan = await h.host('hv-kill-kexec-before');
    await h.enqueue(plan);
    await killWhen(plan, (s) => s === 'kexec');
    const outcome = await h.outcome(plan, 60_000);
    const host = await h.hostState(plan.hostId);
    // The kill landed while the simulated reboot was still on its way: the boot id never changed.
    expect(host.calls.kexec ?? 0).toBe(0);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
    expect(host.vmsRunning).toBe(true);
  });

  it('continues after kexec when the kill comes right after the reboot was issued', async () => {
    const plan = await h.host('hv-kill-kexec-after');
    await h.enqueue(plan);
    await waitFor('the reboot', async () => ((await h.hostState(plan.hostId)).calls.kexec ?? 0) >= 1, 30_000, 2);
    await worker.kill('SIGKILL');
    worker = h.startWorker(env);
    const outcome = await h.outcome(plan, 60_000);
    expect({ outcome: outcome.outcome, phase: outcome.phase, error: outcome.error }).toMatchObject({ outcome: 'updated' });
    expect((await h.hostState(plan.hostId)).calls.kexec).toBe(1);
  });

  it('finishes the handover in flight on SIGTERM before the worker exits', async () => {
    const plan = await h.host('hv-sigterm');
    await h.enqueue(plan);
    await waitFor('preserve', async () => (await ns.redis.hget(h.keys.hostStates(plan.rolloutId), plan.hostId)) === 'preserve', 30_000, 5);
    const exited = worker.kill('SIGTERM');
    await exited;
    // No other worker ran meanwhile: the one that got SIGTERM finished the host itself.
    const entries = await h.journal(plan);
    expect(entries.filter((e) => e.type === 'outcome')).toHaveLength(1);
    expect((await h.outcome(plan, 1_000)).outcome).toBe('updated');
    worker = h.startWorker(env);
  });

  it('never runs two handovers of one host at once', async () => {
    const second = h.startWorker(env);
    const a = await h.host('hv-shared', {}, 'r-a');
    const b = { ...a, rolloutId: 'r-b', handoverId: 'r-b.hv-shared', targetKernel: `${TARGET_KERNEL}-2` };
    await Promise.all([h.enqueue(a), h.enqueue(b)]);
    const [oa, ob] = await Promise.all([h.outcome(a, 60_000), h.outcome(b, 60_000)]);
    const span = (entries: JournalEntry[]) => [entries[0].at, entries[entries.length - 1].at];
    const [a0, a1] = span(await h.journal(a));
    const [b0, b1] = span(await h.journal(b));
    expect(a1 < b0 || b1 < a0).toBe(true);
    expect([oa.outcome, ob.outcome]).toEqual(['updated', 'updated']);
    expect((await h.hostState('hv-shared')).calls.kexec).toBe(2);
    await second.kill();
  });
});
