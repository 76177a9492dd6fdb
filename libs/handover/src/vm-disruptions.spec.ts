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

  it('a rollback counts the VMs stop_vms stopped as restarted, a finished drain as migrated, nothing else', async () => {
    const failAt = (step: string) => (h: ScriptedHost) => (h.fail[step] = new StepFailedError(`${step} broke`));
    expect((await run('live-update', failAt('freeze'))).vms).toBeUndefined();
    expect((await run('live-update-restart', failAt('kexec_load'))).vms).toBeUndefined();
    expect((await run('live-update-restart', failAt('preserve'))).vms).toEqual({ restarted: 1 });
    expect((await run('evacuate', failAt('kexec_load'))).vms).toEqual({ migrated: 3 });
    // Which VMs a broken drain moved is the host's to say: none is counted.
    const broken = await run('evacuate', failAt('drain'));
    expect(broken.outcome).toBe('rolled_back');
    expect(broken.vms).toBeUndefined();
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
