import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHostDriver, signRequest, type HostIdentity } from '@luo-fleet/handover';
import { AGENT_MAIN, freePort } from '../../agent/support/agent-host';
import { writeInitramfs } from './initramfs';
import { GUEST_DIR, REPO_ROOT } from './repo-paths';
import type { LuoKernel } from './luo-kernel';
import type { EmulatedTopology } from './topologies';

/** Where a failed test's serial log is kept. */
export const ARTIFACTS_DIR = process.env.LUO_KERNEL_ARTIFACTS ?? join(REPO_ROOT, 'artifacts/kernel');
/** The agent's port inside the guest; the host reaches it through one hostfwd on 127.0.0.1. */
const GUEST_AGENT_PORT = 7450;
/**
 * How long a fresh guest may take until its agent answers. The bundled agent listens some 10-30 s
 * after QEMU starts under TCG; other guests and builds sharing the 2 cores make that several times
 * longer, so the bound leaves that room, within the tier's 300 s hook timeout.
 */
export const AGENT_START_MS = 240_000;

export interface StandInVm {
  id: string;
  sizeMiB: number;
  backing: 'shmem' | 'hugetlb';
}

export interface GuestOptions {
  /** Names the guest's files and its serial log artifact. */
  name: string;
  hostId: string;
  kernel: LuoKernel;
  /** Boot with `liveupdate=on` (default true); `kho=on` is always there. */
  liveupdate?: boolean;
  vms?: StandInVm[];
  topology?: EmulatedTopology;
  /** Devices the guest binds to vfio-pci at every boot. */
  vfioBdfs?: string[];
  /** 2 MiB huge pages reserved on the command line. */
  hugepages?: number;
  memoryMiB?: number;
  /** QEMU is SIGKILLed past this, whatever happens to the test process. */
  lifetimeMs?: number;
}

export interface SerialLine {
  /** Date.now() when the host read the line. */
  at: number;
  text: string;
}

/**
 * TCG unless LUO_KERNEL_ACCEL=kvm: /dev/kvm exists on this project's machines, but a guest started
 * with it there hangs right after the kernel decompresses itself (nested virtualisation), while TCG
 * boots the same kernel in seconds. Where KVM works, the variable makes the tests faster.
 */
export function accelerator(): 'kvm' | 'tcg' {
  if (process.env.LUO_KERNEL_ACCEL !== 'kvm') return 'tcg';
  accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  return 'kvm';
}

/**
 * One QEMU guest running the LUO test kernel: q35 with an Intel IOMMU (interrupt remapping on),
 * the host's root read-only and a per-guest share read-write over virtio-9p, user networking with
 * `restrict=on` and one forwarded port for the agent. Its initramfs (init.sh) chroots into the
 * host's root and boot.sh starts the stand-in VMs and the project's agent from dist/ at every boot.
 * The serial console is read line by line with the host's time of arrival.
 */
export class QemuGuest {
  readonly dir: string;
  readonly share: string;
  readonly secret = Buffer.from(randomBytes(32).toString('hex'));
  readonly lines: SerialLine[] = [];
  url = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private partial = '';
  private serialLog = '';

  constructor(readonly options: GuestOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `luo-guest-${options.name}-`));
    this.share = join(this.dir, 'share');
  }

  get hostId(): string {
    return this.options.hostId;
  }

  /** The guest's agent, as the orchestrator would reach it. */
  driver(overrides: Partial<ConstructorParameters<typeof AgentHostDriver>[0]> = {}): AgentHostDriver {
    return new AgentHostDriver({ url: this.url, hostId: this.hostId, secret: this.secret, timeoutMs: 3_000, stepTimeoutMs: 120_000, retries: 2, retryDelayMs: 500, ...overrides });
  }

  /** A signed GET to the guest's agent, answered as JSON (what the driver reads, unfiltered). */
  async signedGet(path: string): Promise<unknown> {
    const headers = signRequest(this.secret, { method: 'GET', path, body: '' });
    const res = await fetch(`${this.url}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    return res.json();
  }

  async start(): Promise<void> {
    const o = this.options;
    const port = await freePort('127.0.0.1');
    this.url = `http://127.0.0.1:${port}`;
    this.prepareShare();
    const initramfs = join(this.dir, 'initramfs.cpio');
    writeInitramfs(initramfs);
    // The target kernel the agent stages: the same image and initramfs, named by release.
    mkdirSync(join(this.share, 'kernels'));
    symlinkSync(o.kernel.bzImage, join(this.share, 'kernels', `vmlinuz-${o.kernel.release}`));
    copyFileSync(initramfs, join(this.share, 'kernels', `initrd.img-${o.kernel.release}`));

    const cmdline = [
      'console=ttyS0',
      'intel_iommu=on',
      ...(o.liveupdate === false ? [] : ['liveupdate=on']),
      'kho=on',
      'no_timer_check',
      'panic=-1',
      ...(o.hugepages ? [`hugepages=${o.hugepages}`] : []),
    ].join(' ');
    const accel = accelerator();
    const args = [
      '--signal=KILL',
      `${Math.ceil((o.lifetimeMs ?? 600_000) / 1000)}s`,
      'qemu-system-x86_64',
      '-machine', accel === 'kvm' ? 'q35,kernel-irqchip=split' : 'q35',
      '-accel', accel,
      ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
      '-m', String(o.memoryMiB ?? 1024),
      '-smp', '1',
      '-nodefaults', '-display', 'none', '-no-reboot',
      '-serial', 'stdio',
      // The vIOMMU comes before every PCI device.
      '-device', 'intel-iommu,intremap=on',
      '-kernel', o.kernel.bzImage,
      '-initrd', initramfs,
      '-append', cmdline,
      '-fsdev', 'local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap',
      '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
      '-fsdev', `local,id=guest,path=${this.share},security_model=passthrough,multidevs=remap`,
      '-device', 'virtio-9p-pci,fsdev=guest,mount_tag=guest',
      '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:${GUEST_AGENT_PORT}`,
      '-device', 'virtio-net-pci,netdev=n0',
      ...(o.topology?.devices ?? []).flatMap((d) => ['-device', d]),
    ];
    this.serialLog = join(this.dir, 'serial.log');
    writeFileSync(this.serialLog, `# ${['timeout', ...args].join(' ')}\n`);
    // timeout(1) leads a process group of its own with QEMU in it: killing the group ends both.
    const child = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    child.stdout!.on('data', (chunk: Buffer) => this.collect(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.collect(chunk));
    process.once('exit', () => killGroup(child));
  }

  private prepareShare(): void {
    const o = this.options;
    mkdirSync(join(this.share, 'state'), { recursive: true });
    mkdirSync(join(this.share, 'vms'));
    copyFileSync(join(GUEST_DIR, 'boot.sh'), join(this.share, 'boot.sh'));
    writeFileSync(join(this.share, 'secret'), `${this.secret.toString()}\n`, { mode: 0o600 });
    const env = {
      NODE: process.execPath,
      AGENT_MAIN,
      GUEST_DIR,
      VMS: (o.vms ?? []).map((vm) => `${vm.id}:${vm.sizeMiB}:${vm.backing}`).join(' '),
      VFIO_BDFS: (o.vfioBdfs ?? []).join(' '),
      SRIOV_NUMVFS: String(o.topology?.numVfs ?? 0),
    };
    writeFileSync(join(this.share, 'guest.env'), Object.entries(env).map(([k, v]) => `${k}='${v}'\n`).join(''));
    const g = '/run/luo-guest';
    const vmm = (command: string, timeoutMs: number) => ({ command: process.execPath, args: [join(GUEST_DIR, 'vmm.mjs'), command, `${g}/vms`], timeoutMs });
    const config = {
      hostId: o.hostId,
      listen: { host: '0.0.0.0', port: GUEST_AGENT_PORT },
      secretFile: `${g}/secret`,
      stateDir: `${g}/state`,
      kexecReturnWindowMs: 3_000,
      killGraceMs: 1_000,
      hooks: { freeze: vmm('pause', 20_000), thaw: vmm('resume', 20_000) },
      liveupdate: {
        kexecCommand: '/usr/sbin/kexec',
        kernelDir: `${g}/kernels`,
        kexecTimeoutMs: 60_000,
        vmm: { guestMemory: vmm('guest-memory', 20_000), restore: vmm('restore', 60_000) },
      },
    };
    writeFileSync(join(this.share, 'agent.json'), JSON.stringify(config, null, 2));
  }

  private collect(chunk: Buffer): void {
    const at = Date.now();
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const fresh = parts.map((t) => ({ at, text: t.replace(/\r$/, '') }));
    this.lines.push(...fresh);
    if (fresh.length) writeFileSync(this.serialLog, fresh.map((l) => `${new Date(l.at).toISOString()} ${l.text}\n`).join(''), { flag: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first serial line matching `pattern` after line index `from`, waiting for it up to `timeoutMs`. */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<SerialLine & { index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex((l, i) => i >= from && pattern.test(l.text));
      if (index >= 0) return { ...this.lines[index], index };
      if (!this.running) throw new Error(`QEMU exited before the guest printed ${pattern}; serial log: ${this.serialLog}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the guest's console within ${timeoutMs} ms\n${this.tail()}`);
      await sleep(50);
    }
  }

  /** Waits until the agent answers; with `otherThan`, until it answers with another boot id. */
  async waitForAgent(timeoutMs: number, otherThan?: string): Promise<HostIdentity> {
    const driver = this.driver({ retries: 0, timeoutMs: 2_000 });
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      if (!this.running) throw new Error(`QEMU exited; serial log: ${this.serialLog}\n${this.tail()}`);
      try {
        const id = await driver.identity();
        if (id.bootId !== otherThan) return id;
        last = `still boot ${id.bootId}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the guest's agent did not answer within ${timeoutMs} ms (${last})\n${this.tail()}`);
      await sleep(200);
    }
  }

  /** A file the guest wrote into its share (state dir, VM registry, IOMMU groups). */
  readShare(path: string): string | undefined {
    try {
      return readFileSync(join(this.share, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  listShare(path: string): string[] {
    try {
      return readdirSync(join(this.share, path));
    } catch {
      return [];
    }
  }

  tail(n = 40): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  /** Copies the serial log to ARTIFACTS_DIR (for a failed test) and returns where. */
  keepSerialLog(): string {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const kept = join(ARTIFACTS_DIR, `${this.options.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.serial.log`);
    copyFileSync(this.serialLog, kept);
    return kept;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child);
    await this.exited;
  }

  /** Also keeps the serial log when LUO_KERNEL_KEEP_SERIAL=1 (to look at a run that passed). */
  async dispose(): Promise<void> {
    await this.stop();
    if (process.env.LUO_KERNEL_KEEP_SERIAL === '1') process.stderr.write(`serial log kept at ${this.keepSerialLog()}\n`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
