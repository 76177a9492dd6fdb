import { describe, expect, it } from 'vitest';
import type { Vm } from '@luo-fleet/topology';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { StepFailedError } from './host-driver';
import { InMemoryHandoverJournal } from './journal';
import { runHandover } from './handover-machine';
import type { Strategy } from './phases';
import { fast, GPU_A, planFor, ScriptedHost } from './scripted-host.fixture';

const MEMORY = { backing: 'memfd-shmem', sizeMiB: 1024 } as const;
const vm = (id: string): Vm => ({ id, devices: [], memory: MEMORY, balloon: false, virtioMem: false, migratable: true });
const VMS = [vm('vm-a'), vm('vm-b'), vm('vm-c')];

/** Three VMs: all ride a Live Update; vm-c is restarted by live-update-restart; all move by evacuate. */
function planOf(strategy: Strategy, host: ScriptedHost) {
  const preservationSet = buildPreservationSet(host.topo, [GPU_A], { vms: strategy === 'live-update-restart' ? VMS.slice(0, 2) : VMS });
  if (strategy === 'live-update') return planFor(host, [GPU_A], { preservationSet });
  if (strategy === 'live-update-restart') return planFor(host, [GPU_A], { preservationSet, strategy, restartVms: ['vm-c'] });
  return planFor(host, [GPU_A], { preservationSet, strategy, migrations: VMS.map((v) => ({ vmId: v.id, targetHostId: 'hv-2' })) });
}

async function run(strategy: Strategy, script: (host: ScriptedHost) => void = () => undefined) {
  const host = new ScriptedHost();
  script(host);
  return runHandover(host, new InMemoryHandoverJournal(), planOf(strategy, host), fast);
}

describe('VM disruptions in the outcome (luo_fleet_vm_disruptions_total)', () => {
  it('an update counts each VM once, by what its strategy did to it', async () => {
    expect((await run('live-update')).vms).toEqual({ preserved: 3 });
    expect((await run('live-update-restart')).vms).toEqual({ preserved: 2, restarted: 1 });
    expect((await run('evacuate')).vms).toEqual({ migrated: 3 });
  });

  it('a rollback counts the VMs stop_vms stopped as restarted, those a drain moved as migrated, nothing else', async () => {
    const failAt = (step: string) => (h: ScriptedHost) => (h.fail[step] = new StepFailedError(`${step} broke`));
    expect((await run('live-update', failAt('freeze'))).vms).toBeUndefined();
    expect((await run('live-update-restart', failAt('kexec_load'))).vms).toBeUndefined();
    expect((await run('live-update-restart', failAt('preserve'))).vms).toEqual({ restarted: 1 });
    expect((await run('evacuate', failAt('kexec_load'))).vms).toEqual({ migrated: 3 });
    // A drain that cannot say which VMs moved (a plain StepFailedError) counts none.
    const broken = await run('evacuate', failAt('drain'));
    expect(broken.outcome).toBe('rolled_back');
    expect(broken.vms).toBeUndefined();
    expect(broken.migrations).toBeUndefined();
    expect(broken.migrationsUnknown).toBe(true);
    expect((await run('evacuate', failAt('kexec_load'))).migrationsUnknown).toBeUndefined();
  });

  it('a drain that breaks midway counts the VMs it moved as migrated, and names their migrations', async () => {
    const host = new ScriptedHost();
    host.running = VMS.map((v) => v.id);
    host.drainMovesBeforeFailing = 2;
    const journal = new InMemoryHandoverJournal();
    const plan = planOf('evacuate', host);
    const outcome = await runHandover(host, journal, plan, fast);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', phase: 'drain', vms: { migrated: 2 } });
    expect(outcome.migrationsUnknown).toBeUndefined();
    expect(outcome.migrations).toEqual([
      { vmId: 'vm-a', targetHostId: 'hv-2' },
      { vmId: 'vm-b', targetHostId: 'hv-2' },
    ]);
    expect(host.running).toEqual(['vm-c']);
    // The drain's end keeps the list: a run resumed from the journal (the outcome dropped) counts the same.
    const entries = (await journal.load(plan.handoverId)).filter((e) => e.type !== 'outcome');
    const resumed = new InMemoryHandoverJournal();
    for (const e of entries) await resumed.append(plan.handoverId, e);
    const again = await runHandover(host, resumed, plan, fast);
    expect(again.vms).toEqual({ migrated: 2 });
    expect(again.migrations).toEqual(outcome.migrations);
  });

  it('an evacuation names every migration once its drain ended, whatever came after', async () => {
    const all = VMS.map((v) => ({ vmId: v.id, targetHostId: 'hv-2' }));
    expect((await run('evacuate')).migrations).toEqual(all);
    expect((await run('evacuate', (h) => (h.fail.kexec_load = new StepFailedError('no')))).migrations).toEqual(all);
    // The rollback's undrain failed: the host needs a person, but its VMs run on their targets.
    const stuck = await run('evacuate', (h) => {
      h.fail.kexec_load = new StepFailedError('no');
      h.fail.undrain = new StepFailedError('still out of service');
    });
    expect(stuck).toMatchObject({ outcome: 'failed', phase: 'undrain', vms: { migrated: 3 }, migrations: all });
    expect((await run('live-update')).migrations).toBeUndefined();
  });

  it('a failure after the kexec loses every VM of a Live Update, none of an evacuation', async () => {
    const oldKernel = (h: ScriptedHost) => (h.onKexec = 'old_kernel');
    for (const strategy of ['live-update', 'live-update-restart'] as const) {
      const failed = await run(strategy, oldKernel);
      expect(failed.outcome).toBe('failed');
      expect(failed.vms, strategy).toEqual({ lost: 3 });
    }
    // start_vms fails after finish resumed the VMs that rode the update: only the stopped one is lost.
    expect((await run('live-update-restart', (h) => (h.fail.start_vms = new StepFailedError('no')))).vms).toEqual({ preserved: 2, lost: 1 });
    expect((await run('evacuate', oldKernel)).vms).toEqual({ migrated: 3 });
  });

  it('a failed rollback counts nothing (the VMs are still on the old kernel)', async () => {
    const outcome = await run('live-update', (h) => {
      h.fail.freeze = new StepFailedError('freeze broke');
      h.fail.thaw = new StepFailedError('thaw broke');
    });
    expect(outcome).toMatchObject({ outcome: 'failed', phase: 'thaw' });
    expect(outcome.vms).toBeUndefined();
  });
});
