import { closeSync, existsSync, fstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { IncomingAnswer, StepRequest } from '@luo-fleet/handover';
import { LIVEUPDATE_DRIVER_STEPS, type AgentConfig, type HookCommand, type HookName, type LiveUpdateConfig, type LiveUpdateDriverStep } from '../config/agent-config';
import { STDOUT_CAP, type HookResult, type RunningHook } from '../hooks/hook-process';
import { LiveUpdateDevice, type LiveUpdateSession } from './liveupdate-device';
import { sessionNameOf, SessionManifestFile, type SessionManifest } from './session-manifest';
import { takeProcessFd } from './system-calls';

/** Starts one hook or command the way HostSteps starts every hook (files for stdio, own process group). */
export type LaunchHook = (hook: HookCommand, step: HookName, stdin: string, outputName: string, options?: { captureStdout?: boolean; passFds?: number[] }) => RunningHook;

/** What the VMM's guestMemory hook prints: every VM's guest-memory memfds, as fds of its process. */
const guestMemorySchema = z.strictObject({
  vms: z.array(
    z.strictObject({
      id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/),
      pid: z.number().int().min(1),
      memory: z.array(z.strictObject({ fd: z.number().int().min(0) })).min(1),
    }),
  ),
});

/** The kernel command line flags without which the target kernel cannot retrieve anything. */
const LUO_FLAGS = ['liveupdate=on', 'kho=on'];

class StepWorkError extends Error {
  constructor(
    message: string,
    readonly lines: string[] = [],
  ) {
    super(message);
  }
}

/**
 * The agent's Live Update driver for a kernel with LUO (design 1): the agent holds /dev/liveupdate
 * and the session fds, one session per VM with each guest-memory memfd preserved under a token;
 * kexec-tools stages the target kernel with kexec_file_load (`-s -l`) and reboots (`-e`) while the
 * sessions are held, and in the new kernel the sessions are retrieved by name, the memfds handed
 * back to the VMM, and the sessions finished. Closing an outgoing session before the reboot
 * unpreserves it (the rollback). The VMM's part (which fds, pause, resume, restore) stays behind
 * hooks. Kernel 7.3 preserves memfds only, so a plan that preserves PCI devices is refused.
 */
export class LiveUpdateSteps {
  private readonly device: LiveUpdateDevice;
  private readonly manifest: SessionManifestFile;
  /** Sessions this process created and holds open until the reboot; closed, they unpreserve. */
  private outgoing: { handoverId: string; sessions: LiveUpdateSession[] } | undefined;
  /** Sessions retrieved in this boot, held until finish. */
  private incomingSessions: LiveUpdateSession[] = [];

  constructor(
    private readonly config: AgentConfig & { liveupdate: LiveUpdateConfig },
    private readonly launch: LaunchHook,
    private readonly bootId: () => string,
  ) {
    this.device = new LiveUpdateDevice(config.liveupdateDevicePath);
    this.manifest = new SessionManifestFile(config.stateDir);
  }

  static performs(step: string): step is LiveUpdateDriverStep {
    return (LIVEUPDATE_DRIVER_STEPS as readonly string[]).includes(step);
  }

  start(step: Exclude<LiveUpdateDriverStep, 'incoming'>, request: StepRequest, outputName: string): RunningHook {
    switch (step) {
      case 'kexec_load':
        return this.kexecLoad(request, outputName);
      case 'kexec_unload':
        return this.launch(this.kexecCommand(['-u']), step, JSON.stringify(request), outputName);
      case 'kexec':
        return this.kexec(request, outputName);
      case 'preserve':
        return inProcess(() => this.preserve(request, outputName));
      case 'unpreserve':
        return inProcess(async () => this.unpreserve());
      case 'retrieve':
        return inProcess(() => this.retrieve(request, outputName));
      case 'finish':
        return inProcess(async () => this.finish(request));
    }
  }

  /** The kernel preserves no PCI device in this driver (memfds only), so none comes in. */
  incoming(): IncomingAnswer {
    return { ok: true, incoming: [], exitCode: 0, outputTail: ['agent: Live Update driver: no PCI devices are preserved by this kernel'], timedOut: false };
  }

  private kexecCommand(args: string[]): HookCommand {
    return { command: this.config.liveupdate.kexecCommand, args, timeoutMs: this.config.liveupdate.kexecTimeoutMs };
  }

  /** `kexec -s -l vmlinuz-<target> [--initrd=initrd.img-<target>] --command-line=<running one, with liveupdate=on kho=on>`. */
  private kexecLoad(request: StepRequest, outputName: string): RunningHook {
    const dir = this.config.liveupdate.kernelDir;
    // targetKernel is held to kernel-release characters (agent-wire.ts): no path separators.
    const image = join(dir, `vmlinuz-${request.targetKernel}`);
    const initrd = join(dir, `initrd.img-${request.targetKernel}`);
    if (!existsSync(image)) return failed([`agent: ${image} is not installed`]);
    let cmdline: string[];
    try {
      cmdline = readFileSync(this.config.cmdlinePath, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch (err) {
      return failed([`agent: cannot read ${this.config.cmdlinePath}: ${(err as Error).message}`]);
    }
    for (const flag of LUO_FLAGS) if (!cmdline.includes(flag)) cmdline.push(flag);
    const args = ['-s', '-l', image, ...(existsSync(initrd) ? [`--initrd=${initrd}`] : []), `--command-line=${cmdline.join(' ')}`];
    return this.launch(this.kexecCommand(args), 'kexec_load', JSON.stringify(request), outputName);
  }

  /**
   * Reboots only while this process holds the sessions that preserve for this handover recorded:
   * an agent that restarted since lost them (closed fds unpreserve), and a reboot then would drop
   * every VM's memory. Refusing looks like a reboot that returned: nothing happened, roll back.
   */
  private kexec(request: StepRequest, outputName: string): RunningHook {
    const manifest = this.manifest.read();
    if (!manifest || manifest.handoverId !== request.handoverId || manifest.preservedInBoot !== this.bootId()) {
      return failed([`agent: nothing was preserved for handover ${request.handoverId} in this boot; not rebooting`]);
    }
    if (this.outgoing?.handoverId !== request.handoverId) {
      return failed([`agent: the sessions of handover ${request.handoverId} are no longer held (the agent restarted after preserve); not rebooting`]);
    }
    return this.launch(this.kexecCommand(['-e']), 'kexec', JSON.stringify(request), outputName);
  }

  private async preserve(request: StepRequest, outputName: string): Promise<string[]> {
    const devices = request.preservationSet.devices.filter((d) => d.preservable).map((d) => d.bdf);
    if (devices.length > 0) {
      throw new StepWorkError(`this kernel's Live Update preserves guest memory (memfd) only, not PCI devices: ${devices.join(', ')}`);
    }
    if (this.outgoing?.handoverId === request.handoverId) return [`agent: handover ${request.handoverId} is already preserved`];
    // Sessions of an earlier handover that was never rolled back would go along with this reboot.
    this.closeOutgoing();

    const answer = await this.runVmmHook(this.config.liveupdate.vmm.guestMemory, 'preserve', JSON.stringify(request), `${outputName}.guest-memory`, { captureStdout: true });
    const listed = parseGuestMemory(answer);
    const lines: string[] = [];
    const sessions: LiveUpdateSession[] = [];
    const manifest: SessionManifest = { handoverId: request.handoverId, preservedInBoot: this.bootId(), sessions: [] };
    try {
      for (const vm of listed.vms) {
        const session = this.device.createSession(sessionNameOf(vm.id));
        sessions.push(session);
        const tokens: string[] = [];
        vm.memory.forEach((memory, i) => {
          const token = BigInt(i + 1);
          const fd = takeProcessFd(vm.pid, memory.fd);
          try {
            const bytes = fstatSync(fd).size;
            session.preserveFd(fd, token);
            lines.push(`${vm.id}: memfd (pid ${vm.pid} fd ${memory.fd}, ${bytes} bytes) preserved in session ${session.name} as token ${token}`);
          } finally {
            closeSync(fd);
          }
          tokens.push(token.toString());
        });
        manifest.sessions.push({ vm: vm.id, name: session.name, tokens });
      }
    } catch (err) {
      for (const session of sessions) session.close();
      throw new StepWorkError(`${(err as Error).message}; the ${sessions.length} session(s) created are closed again`, lines);
    }
    this.manifest.write(manifest);
    this.outgoing = { handoverId: request.handoverId, sessions };
    lines.push(`agent: ${sessions.length} session(s) held until the reboot`);
    return lines;
  }

  /** Rollback: closing the outgoing session fds unpreserves their files. Safe when nothing was preserved. */
  private unpreserve(): string[] {
    const count = this.outgoing?.sessions.length ?? 0;
    this.closeOutgoing();
    const manifest = this.manifest.read();
    if (manifest && manifest.preservedInBoot === this.bootId()) this.manifest.remove();
    return [`agent: ${count} session(s) closed`];
  }

  private closeOutgoing(): void {
    for (const session of this.outgoing?.sessions ?? []) session.close();
    this.outgoing = undefined;
  }

  /** New kernel: each session by name, each memfd by token, handed to the VMM's restore hook as fds 3, 4, ... */
  private async retrieve(request: StepRequest, outputName: string): Promise<string[]> {
    const manifest = this.manifest.read();
    const bootId = this.bootId();
    if (!manifest || manifest.handoverId !== request.handoverId) throw new StepWorkError(`no sessions were recorded for handover ${request.handoverId}`);
    if (manifest.preservedInBoot === bootId) throw new StepWorkError('this is still the boot that preserved the sessions');
    if (manifest.restoredInBoot === bootId) return ['agent: the VMs were already restored in this boot'];
    const lines: string[] = [];
    const fds: number[] = [];
    const vms: { id: string; memory: { fd: number }[] }[] = [];
    try {
      for (const entry of manifest.sessions) {
        const session = this.device.retrieveSession(entry.name);
        this.incomingSessions.push(session);
        const memory = entry.tokens.map((token) => {
          const fd = session.retrieveFd(BigInt(token));
          fds.push(fd);
          lines.push(`${entry.vm}: memfd token ${token} retrieved from session ${entry.name} (${fstatSync(fd).size} bytes)`);
          return { fd: 2 + fds.length };
        });
        vms.push({ id: entry.vm, memory });
      }
      const stdin = JSON.stringify({ ...request, vms });
      lines.push(...(await this.runVmmHook(this.config.liveupdate.vmm.restore, 'retrieve', stdin, `${outputName}.restore`, { passFds: fds })).outputTail);
    } catch (err) {
      throw new StepWorkError((err as Error).message, [...lines, ...(err instanceof StepWorkError ? err.lines : [])]);
    } finally {
      // The VMM holds its own copies now (or the step failed); the sessions stay held until finish.
      for (const fd of fds) closeSync(fd);
    }
    this.manifest.write({ ...manifest, restoredInBoot: bootId });
    return lines;
  }

  private finish(request: StepRequest): string[] {
    const manifest = this.manifest.read();
    if (!manifest || manifest.handoverId !== request.handoverId || manifest.restoredInBoot !== this.bootId()) {
      throw new StepWorkError(`handover ${request.handoverId} was not restored in this boot`);
    }
    const lines: string[] = [];
    for (const session of this.incomingSessions) {
      session.finish();
      session.close();
      lines.push(`agent: session ${session.name} finished`);
    }
    // An agent that restarted since retrieve held none: closing a retrieved session finishes it.
    if (this.incomingSessions.length === 0) lines.push(`agent: ${manifest.sessions.length} session(s) were closed, and so finished, when the agent that retrieved them exited`);
    this.incomingSessions = [];
    this.manifest.remove();
    return lines;
  }

  private async runVmmHook(hook: HookCommand, step: HookName, stdin: string, outputName: string, options: { captureStdout?: boolean; passFds?: number[] }): Promise<HookResult> {
    const result = await this.launch(hook, step, stdin, outputName, options).result;
    if (!result.ok) {
      throw new StepWorkError(`the VMM hook ${hook.command} failed (${result.timedOut ? 'timed out' : `exit ${result.exitCode}`})`, result.outputTail);
    }
    return result;
  }
}

function parseGuestMemory(result: HookResult): z.output<typeof guestMemorySchema> {
  if (result.stdout === undefined) throw new StepWorkError(`the guestMemory hook printed more than ${STDOUT_CAP} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    throw new StepWorkError('the guestMemory hook did not print JSON on stdout', result.outputTail);
  }
  const parsed = guestMemorySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StepWorkError(`the guestMemory hook printed ${issue.path.join('.') || 'JSON'}: ${issue.message}`);
  }
  const ids = parsed.data.vms.map((vm) => vm.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new StepWorkError(`the guestMemory hook listed VM ${twice} twice`);
  return parsed.data;
}

/** Work done inside the agent, reported as a hook's result would be (no process group to track). */
function inProcess(work: () => Promise<string[]>): RunningHook {
  const started = Date.now();
  const result = work().then(
    (lines): HookResult => ({ ok: true, exitCode: 0, signal: null, durationMs: Date.now() - started, outputTail: lines.slice(-20), timedOut: false }),
    (err: unknown): HookResult => ({
      ok: false,
      exitCode: 1,
      signal: null,
      durationMs: Date.now() - started,
      outputTail: [...(err instanceof StepWorkError ? err.lines : []), `agent: ${(err as Error).message}`].slice(-20),
      timedOut: false,
    }),
  );
  return { pgid: undefined, result };
}

function failed(lines: string[]): RunningHook {
  return { pgid: undefined, result: Promise.resolve({ ok: false, exitCode: 1, signal: null, durationMs: 0, outputTail: lines, timedOut: false }) };
}
