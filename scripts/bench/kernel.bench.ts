/**
 * The orchestration around a real kexec: a QEMU guest running the LUO test kernel (KVM when
 * present, else TCG) with two stand-in VMs, live-updated RUNS times in a row by the handover
 * machine through the agent driver, as a worker drives it. From the guest's serial console, read
 * with the host's time of arrival, and the handover's journal:
 *   reboot     from the old kernel's "Starting new kernel" to the new agent's "listening"
 *   overhead   the handover's wall time minus that reboot: what luo-fleet and the agent add, split
 *              into the steps before the kexec, the kexec request until the old kernel hands over,
 *              "listening" until the machine's boot poll has its answer, and the steps after it;
 *              and again into the steps' own work in the guest (each step's duration as the agent
 *              recorded it: its hooks, kexec_file_load, the ioctls) and the rest (orchestration:
 *              requests, reads of identity and topology, journal, waiting for the next poll)
 *   agent up   from the new kernel's first userspace line (the initramfs init) to "listening",
 *              split at boot.sh starting the agent and at the agent's own account of its start
 *   blackout   VM paused (freeze) to finish, as the journal records it
 * Targets: overhead < 2 s; agent up < 3 s.
 */
import { InMemoryHandoverJournal, type JournalEntry } from '@luo-fleet/handover';
import { luoKernel } from '../../test/kernel/support/luo-kernel';
import { accelerator, QemuGuest, type SerialLine } from '../../test/kernel/support/qemu-guest';
import { handOverGuest } from '../../test/kernel/support/guest-handover';

export const name = 'kernel';

const RUNS = Number(process.env.BENCH_KERNEL_RUNS ?? 3);

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  wall: number;
  reboot: number;
  overhead: number;
  /** The overhead's parts: they add up to it. */
  beforeKexec: number;
  kexecToSwitch: number;
  listenToAnswer: number;
  afterBoot: number;
  /** The overhead again: the steps' own time in the guest, and the rest. */
  guestSteps: number;
  orchestration: number;
  agentUp: number;
  initToAgent: number;
  /** The agent's own account: ms from its process start to its modules loaded, and to listening. */
  agentLoaded: number;
  agentListening: number;
  blackout: number;
}

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
  const rows: Row[] = [];
  try {
    await guest.start();
    await guest.waitForAgent(180_000);
    for (let i = 0; i < RUNS; i++) {
      const from = guest.lines.length;
      const journal = new InMemoryHandoverJournal();
      const { outcome, plan, startedAt, endedAt } = await handOverGuest(guest, kernel.release, `bench-${i}`, journal);
      if (outcome.outcome !== 'updated') throw new Error(`run ${i}: ${outcome.outcome}: ${outcome.error}\n${guest.tail()}`);
      const row = await measure(guest, from, plan.handoverId, await journal.load(plan.handoverId), startedAt, endedAt, outcome.blackoutMs ?? NaN);
      rows.push(row);
      console.log(
        `run ${i + 1}: handover ${s(row.wall)}, reboot ${s(row.reboot)}, overhead ${s(row.overhead)} ` +
          `(steps' own work in the guest ${s(row.guestSteps)}, orchestration ${s(row.orchestration)}; before kexec ${s(row.beforeKexec)}, kexec to new kernel ${s(row.kexecToSwitch)}, listening to answer ${s(row.listenToAnswer)}, after boot ${s(row.afterBoot)}), ` +
          `agent up ${s(row.agentUp)} (init to agent start ${s(row.initToAgent)}; agent: modules ${s(row.agentLoaded)}, listening ${s(row.agentListening)}), blackout ${s(row.blackout)}`,
      );
    }
  } finally {
    await guest.dispose();
  }
  const m = (pick: (r: Row) => number) => s(median(rows.map(pick)));
  const overhead = median(rows.map((r) => r.overhead));
  const agentUp = median(rows.map((r) => r.agentUp));
  console.log(
    `median: overhead ${s(overhead)} (target < 2 s: ${overhead < 2_000 ? 'PASS' : 'MISS'}; steps' own work in the guest ${m((r) => r.guestSteps)}, orchestration ${m((r) => r.orchestration)}; before kexec ${m((r) => r.beforeKexec)}, kexec to new kernel ${m((r) => r.kexecToSwitch)}, ` +
      `listening to answer ${m((r) => r.listenToAnswer)}, after boot ${m((r) => r.afterBoot)}), ` +
      `agent up ${s(agentUp)} (target < 3 s: ${agentUp < 3_000 ? 'PASS' : 'MISS'}; init to agent start ${m((r) => r.initToAgent)}, agent modules ${m((r) => r.agentLoaded)}, agent listening ${m((r) => r.agentListening)}), ` +
      `blackout ${m((r) => r.blackout)} against reboot ${m((r) => r.reboot)}`,
  );
}

/** One run's figures from the serial lines after index `from` and the handover's journal. */
async function measure(guest: QemuGuest, from: number, handoverId: string, entries: JournalEntry[], startedAt: number, endedAt: number, blackout: number): Promise<Row> {
  const kexec = await guest.waitForLine(/kexec_core: Starting new kernel/, 0, from);
  const init = await guest.waitForLine(/luo-guest: init at uptime/, 0, kexec.index);
  const agentStart = await guest.waitForLine(/luo-guest: starting agent/, 0, init.index);
  const listening = await guest.waitForLine(/listening on/, 0, agentStart.index);
  const fence = entries.find((e) => e.type === 'kexec_fence');
  const answered = entries.find((e) => e.type === 'step_end' && e.step === 'await_boot');
  if (!fence || !answered) throw new Error('the journal has no kexec fence or no end of await_boot');
  const own = agentTimes(listening);
  const reboot = listening.at - kexec.at;
  const overhead = endedAt - startedAt - reboot;
  const guestSteps = agentStepMs(guest, handoverId);
  return {
    wall: endedAt - startedAt,
    reboot,
    overhead,
    guestSteps,
    orchestration: overhead - guestSteps,
    beforeKexec: fence.at - startedAt,
    kexecToSwitch: kexec.at - fence.at,
    listenToAnswer: answered.at - listening.at,
    afterBoot: endedAt - answered.at,
    agentUp: listening.at - init.at,
    initToAgent: agentStart.at - init.at,
    agentLoaded: own.loadedMs,
    agentListening: own.upMs,
    blackout,
  };
}

/**
 * The steps' own time in the guest: the durations the agent recorded in its step records (the
 * guest's share, state/requests/). The kexec is left out: its record times the return window.
 */
function agentStepMs(guest: QemuGuest, handoverId: string): number {
  let total = 0;
  for (const file of guest.listShare('state/requests')) {
    const text = /^[0-9a-f]{64}\.json$/.test(file) ? guest.readShare(`state/requests/${file}`) : undefined;
    const record = text ? (JSON.parse(text) as { handoverId?: string; step?: string; state?: string; answer?: { durationMs?: number } }) : undefined;
    if (record?.handoverId === handoverId && record.state === 'done' && record.step !== 'kexec') total += record.answer?.durationMs ?? 0;
  }
  return total;
}

/** The agent's "listening on ... (N ms after start, modules loaded at M ms)" (apps/agent/src/main.ts). */
function agentTimes(line: SerialLine): { upMs: number; loadedMs: number } {
  const match = /\((\d+) ms after start, modules loaded at (\d+) ms\)/.exec(line.text);
  return match ? { upMs: Number(match[1]), loadedMs: Number(match[2]) } : { upMs: NaN, loadedMs: NaN };
}
