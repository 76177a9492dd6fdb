/**
 * The orchestration around a real kexec: a QEMU guest running the LUO test kernel (KVM when
 * present, else TCG) with two stand-in VMs, live-updated RUNS times in a row by the handover
 * machine through the agent driver, as a worker drives it. From the guest's serial console, read
 * with the host's time of arrival:
 *   reboot     from the old kernel's "Starting new kernel" to the new agent's "listening"
 *   overhead   the handover's wall time minus that reboot: what luo-fleet and the agent add
 *   agent up   from the new kernel's first userspace line (the initramfs init) to "listening"
 *   blackout   VM paused (freeze) to finish, as the journal records it
 * Targets: overhead < 2 s; agent up < 3 s.
 */
import { luoKernel } from '../../test/kernel/support/luo-kernel';
import { accelerator, QemuGuest } from '../../test/kernel/support/qemu-guest';
import { handOverGuest } from '../../test/kernel/support/guest-handover';

export const name = 'kernel';

const RUNS = Number(process.env.BENCH_KERNEL_RUNS ?? 3);

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<void> {
  const kernel = luoKernel();
  const guest = new QemuGuest({
    name: 'bench',
    hostId: 'guest-bench',
    kernel,
    vms: [
      { id: 'vm-a', sizeMiB: 64, backing: 'shmem' },
      { id: 'vm-b', sizeMiB: 16, backing: 'shmem' },
    ],
  });
  console.log(`kernel ${kernel.release}, accelerator ${accelerator()}, ${RUNS} live updates`);
  const rows: { wall: number; reboot: number; overhead: number; agentUp: number; blackout: number }[] = [];
  try {
    await guest.start();
    await guest.waitForAgent(180_000);
    for (let i = 0; i < RUNS; i++) {
      const from = guest.lines.length;
      const { outcome, startedAt, endedAt } = await handOverGuest(guest, kernel.release, `bench-${i}`);
      if (outcome.outcome !== 'updated') throw new Error(`run ${i}: ${outcome.outcome}: ${outcome.error}\n${guest.tail()}`);
      const kexec = await guest.waitForLine(/kexec_core: Starting new kernel/, 0, from);
      const init = await guest.waitForLine(/luo-guest: init at uptime/, 0, kexec.index);
      const listening = await guest.waitForLine(/listening on/, 0, init.index);
      const reboot = listening.at - kexec.at;
      const row = { wall: endedAt - startedAt, reboot, overhead: endedAt - startedAt - reboot, agentUp: listening.at - init.at, blackout: outcome.blackoutMs ?? NaN };
      rows.push(row);
      console.log(`run ${i + 1}: handover ${s(row.wall)}, reboot ${s(row.reboot)}, overhead ${s(row.overhead)}, agent up ${s(row.agentUp)}, blackout ${s(row.blackout)}`);
    }
  } finally {
    await guest.dispose();
  }
  const overhead = median(rows.map((r) => r.overhead));
  const agentUp = median(rows.map((r) => r.agentUp));
  console.log(`median: overhead ${s(overhead)} (target < 2 s: ${overhead < 2_000 ? 'PASS' : 'MISS'}), agent up ${s(agentUp)} (target < 3 s: ${agentUp < 3_000 ? 'PASS' : 'MISS'}), blackout ${s(median(rows.map((r) => r.blackout)))} against reboot ${s(median(rows.map((r) => r.reboot)))}`);
}
