import { TopologyBuilder, type DeviceSpec, type HostTopology } from '@luo-fleet/topology';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, type HandoverPlan, type HandoverPlanInput } from './handover-plan';
import {
  HostUnreachableError,
  KexecReturnedError,
  DrainBrokenError,
  type HostDriver,
  type HostIdentity,
  type IdentityQuery,
  type RetrieveReport,
  type StepContext,
} from './host-driver';
import type { HandoverJournal, InMemoryHandoverJournal, JournalEntry } from './journal';

/** Test doubles for the phase machine's own tests: a scripted host and the plans it is driven by. */

export const GPU_A = '0000:3b:00.0';
export const GPU_B = '0000:5e:00.0';

/** The host every test starts from: two GPUs each alone in its group, and a host-owned SATA controller. */
export function topologyOf(extra: Record<string, DeviceSpec> = {}, gpuB: DeviceSpec = {}): HostTopology {
  const b = new TopologyBuilder();
  const gpu: DeviceSpec = { vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint' };
  b.add(GPU_A, { ...gpu, group: 10 });
  b.add(GPU_B, { ...gpu, group: 11, ...gpuB });
  b.add('0000:00:1f.0', { group: 1 });
  for (const [bdf, spec] of Object.entries(extra)) b.add(bdf, spec);
  return b.build();
}

/**
 * A scripted host: records every call, fails where told. Its VMs run here (`running`), were moved
 * elsewhere by `drain` (`migrated`), or were stopped (`stopped`); `drainMovesBeforeFailing`
 * makes a drain fail after moving that many VMs, as a migration that breaks midway does.
 */
export class ScriptedHost implements HostDriver {
  calls: string[] = [];
  /** The context of every step call, by step. */
  contexts = new Map<string, StepContext>();
  bootId = 'boot-1';
  kernel = '6.12.0-old';
  luo = true;
  down = false;
  topo: HostTopology = topologyOf();
  newTopo?: HostTopology;
  preserved: string[] = [];
  fail: Partial<Record<string, Error>> = {};
  onKexec: 'reboot' | 'returns' | 'never_back' | 'old_kernel' | 'drops_connection' = 'reboot';
  incomingOverride?: string[];
  running: string[] = ['vm-a', 'vm-b'];
  stopped: string[] = [];
  migrated: string[] = [];
  inService = true;
  drainMovesBeforeFailing?: number;

  private step(name: string, ctx?: StepContext): void {
    this.calls.push(name);
    if (ctx) this.contexts.set(name, ctx);
    const err = this.fail[name];
    if (err) throw err;
  }
  async identity(_query?: IdentityQuery): Promise<HostIdentity> {
    if (this.down) throw new HostUnreachableError('no answer');
    return { bootId: this.bootId, kernelRelease: this.kernel, luoEnabled: this.luo };
  }
  async topology(): Promise<HostTopology> {
    return this.topo;
  }
  async kexecLoad(ctx: StepContext): Promise<void> {
    this.step('kexec_load', ctx);
  }
  async preserve(ctx: StepContext): Promise<void> {
    this.step('preserve', ctx);
    this.preserved = ctx.preservationSet.devices.filter((d) => d.preservable).map((d) => d.bdf);
  }
  async freeze(ctx: StepContext): Promise<void> {
    this.step('freeze', ctx);
  }
  async kexec(ctx: StepContext): Promise<void> {
    this.step('kexec', ctx);
    switch (this.onKexec) {
      case 'returns':
        throw new KexecReturnedError('reboot(LINUX_REBOOT_CMD_KEXEC) returned -EBUSY');
      case 'never_back':
        this.down = true;
        return;
      case 'old_kernel':
        this.bootId = 'boot-2';
        return;
      case 'drops_connection':
        this.bootId = 'boot-2';
        this.kernel = ctx.targetKernel;
        throw new HostUnreachableError('connection reset');
      case 'reboot':
        this.bootId = 'boot-2';
        this.kernel = ctx.targetKernel;
        if (this.newTopo) this.topo = this.newTopo;
    }
  }
  async incoming(): Promise<RetrieveReport> {
    this.calls.push('incoming');
    return { incoming: this.incomingOverride ?? this.preserved };
  }
  async retrieve(ctx: StepContext): Promise<void> {
    this.step('retrieve', ctx);
  }
  async finish(ctx: StepContext): Promise<void> {
    this.step('finish', ctx);
  }
  async thaw(ctx: StepContext): Promise<void> {
    this.step('thaw', ctx);
  }
  async unpreserve(ctx: StepContext): Promise<void> {
    this.step('unpreserve', ctx);
    this.preserved = [];
  }
  async kexecUnload(ctx: StepContext): Promise<void> {
    this.step('kexec_unload', ctx);
  }
  async stopVms(ctx: StepContext): Promise<void> {
    this.step('stop_vms', ctx);
    for (const id of ctx.restartVms ?? []) {
      if (!this.running.includes(id)) continue;
      this.running = this.running.filter((v) => v !== id);
      this.stopped.push(id);
    }
  }
  async startVms(ctx: StepContext): Promise<void> {
    this.step('start_vms', ctx);
    for (const id of ctx.restartVms ?? []) {
      if (!this.stopped.includes(id)) continue;
      this.stopped = this.stopped.filter((v) => v !== id);
      this.running.push(id);
    }
  }
  async drain(ctx: StepContext): Promise<void> {
    this.calls.push('drain');
    this.contexts.set('drain', ctx);
    this.inService = false;
    let moved = 0;
    for (const { vmId } of ctx.migrations ?? []) {
      if (!this.running.includes(vmId)) continue;
      if (this.drainMovesBeforeFailing !== undefined && moved >= this.drainMovesBeforeFailing) {
        throw new DrainBrokenError(`migration of ${vmId} failed midway`, [...this.migrated]);
      }
      this.running = this.running.filter((v) => v !== vmId);
      this.migrated.push(vmId);
      moved++;
    }
    const err = this.fail.drain;
    if (err) throw err;
  }
  async undrain(ctx: StepContext): Promise<void> {
    this.step('undrain', ctx);
    this.inService = true;
  }
}

export function planFor(host: ScriptedHost, devices = [GPU_A, GPU_B], more: Partial<HandoverPlanInput> = {}): HandoverPlan {
  return buildHandoverPlan({
    hostId: 'hv-1',
    rolloutId: 'r1',
    targetKernel: '6.18.0-new',
    topology: host.topo,
    preservationSet: buildPreservationSet(host.topo, devices),
    ...more,
  });
}

export const fast = { sleep: async () => {}, bootPollMs: 1, bootTimeoutMs: 50, sameBootGraceMs: 5 };

/**
 * The handover journal as a worker sees it when its process dies: `journal` itself, but the append
 * of the first entry `diesAfter` picks is written and then throws `SIGKILL`, as if the process had
 * died right after that write. The next run, on `journal`, resumes from what was written.
 */
export function dyingJournal(journal: InMemoryHandoverJournal, diesAfter: (e: JournalEntry) => boolean): HandoverJournal {
  return {
    load: (id: string) => journal.load(id),
    append: async (id: string, e: JournalEntry) => {
      await journal.append(id, e);
      if (diesAfter(e)) throw new Error('SIGKILL');
    },
  };
}

export function stepsOf(entries: JournalEntry[]): string[] {
  return entries.flatMap((e) => (e.type === 'step_end' ? [`${e.step}:${e.ok ? 'ok' : 'fail'}`] : []));
}
