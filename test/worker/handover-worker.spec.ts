import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGY_PHASES } from '@luo-fleet/handover';
import { redisNamespace, type RedisNamespace } from '../support/redis-namespace';
import { HandoverHarness, OLD_KERNEL, TARGET_KERNEL, undoSteps } from './handover-fixture';

describe('handover worker (real Redis, real worker processes, simulated hosts)', () => {
  let ns: RedisNamespace;
  let h: HandoverHarness;

  beforeAll(async () => {
    ns = redisNamespace('worker');
    h = new HandoverHarness(ns);
    h.startWorker();
  });

  afterAll(async () => {
    await h.close();
    await ns.drop();
  });

  it('updates a host: new kernel, new boot id, every preserved device retrieved', async () => {
    const plan = await h.host('hv-ok');
    const before = await h.hostState('hv-ok');
    await h.enqueue(plan);
    const outcome = await h.outcome(plan);
    expect(outcome.outcome).toBe('updated');
    const after = await h.hostState('hv-ok');
    expect(after.kernelRelease).toBe(TARGET_KERNEL);
    expect(after.bootId).not.toBe(before.bootId);
    expect(after.retrieved.sort()).toEqual(['0000:01:00.0', '0000:02:00.0']);
    expect(after.vmsRunning).toBe(true);
    expect(after.calls.kexec).toBe(1);
  });

  const expectedUndo: Record<string, string[]> = {
    kexec_load: ['kexec_unload'],
    preserve: ['unpreserve', 'kexec_unload'],
    freeze: ['thaw', 'unpreserve', 'kexec_unload'],
  };
  for (const phase of STRATEGY_PHASES['live-update'].beforeKexec.filter((p) => p !== 'precheck')) {
    it(`rolls back exactly what was done when ${phase} fails, leaving VMs running on the old kernel`, async () => {
      const plan = await h.host(`hv-fail-${phase}`, { failStep: phase as 'kexec_load' });
      await h.enqueue(plan);
      const outcome = await h.outcome(plan);
      expect(outcome).toMatchObject({ outcome: 'rolled_back', phase });
      expect(undoSteps(await h.journal(plan))).toEqual(expectedUndo[phase]);
      const s = await h.hostState(plan.hostId);
      expect(s.kernelRelease).toBe(OLD_KERNEL);
      expect(s.vmsRunning).toBe(true);
      expect(s.kexecLoaded).toBeNull();
      expect(s.session.preserved).toEqual([]);
      expect(s.calls.kexec ?? 0).toBe(0);
    });
  }

  it('rolls back with TOPOLOGY_DRIFT when a device was hot-plugged into a preserved group', async () => {
    const plan = await h.host('hv-drift', { hotplugIntoGroupOf: '0000:01:00.0' });
    await h.enqueue(plan);
    const outcome = await h.outcome(plan);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'precheck' });
    expect(outcome.reasons).toContain('TOPOLOGY_DRIFT');
    expect(undoSteps(await h.journal(plan))).toEqual([]);
  });

  it('rolls back everything when the reboot syscall returns an error', async () => {
    const plan = await h.host('hv-reboot-err', { rebootReturnsError: true });
    await h.enqueue(plan);
    const outcome = await h.outcome(plan);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'kexec' });
    expect(undoSteps(await h.journal(plan))).toEqual(['thaw', 'unpreserve', 'kexec_unload']);
    expect((await h.hostState(plan.hostId)).vmsRunning).toBe(true);
  });

  const postKexec: [string, object, string][] = [
    ['never comes back', { neverReturns: true }, 'await_boot'],
    ['comes back on its old kernel', { panicFallback: true }, 'await_boot'],
    ['refuses to hand devices back', { retrieveFails: true }, 'retrieve'],
  ];
  for (const [what, faults, phase] of postKexec) {
    it(`fails without rolling back when the host ${what}`, async () => {
      const plan = await h.host(`hv-post-${phase}-${Object.keys(faults)[0]}`, faults);
      await h.enqueue(plan);
      const outcome = await h.outcome(plan);
      expect(outcome).toMatchObject({ outcome: 'failed', phase });
      expect(undoSteps(await h.journal(plan))).toEqual([]);
      expect((await h.hostState(plan.hostId)).calls.kexec).toBe(1);
      if (phase === 'await_boot' && 'neverReturns' in faults) expect(outcome.reasons).toEqual(['HOST_UNREACHABLE']);
    });
  }

  it('counts every outcome once in the rollout stats', async () => {
    const stats = await ns.redis.hgetall(h.keys.stats('r1'));
    expect(Number(stats['h|updated'])).toBe(1);
    expect(Number(stats['h|rolled_back'])).toBe(5);
    expect(Number(stats['h|failed'])).toBe(3);
  });
});
