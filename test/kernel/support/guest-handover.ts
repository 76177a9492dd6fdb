import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, InMemoryHandoverJournal, runHandover, type HandoverJournal, type HandoverMachineOptions } from '@luo-fleet/handover';
import type { QemuGuest } from './qemu-guest';

/** Boot polling fit for a guest that reboots in seconds (TCG included). */
export const GUEST_MACHINE: HandoverMachineOptions = { bootPollMs: 250, bootTimeoutMs: 120_000, sameBootGraceMs: 10_000, stepTimeoutMs: 120_000 };

/** One handover of the guest straight through the handover machine and the agent driver (no Redis, no workers). */
export async function handOverGuest(guest: QemuGuest, targetKernel: string, rolloutId = 'r-kernel', journal: HandoverJournal = new InMemoryHandoverJournal()) {
  const driver = guest.driver();
  const topology = await driver.topology();
  const plan = buildHandoverPlan({ hostId: guest.hostId, rolloutId, targetKernel, topology, preservationSet: buildPreservationSet(topology, undefined) });
  const started = Date.now();
  const outcome = await runHandover(driver, journal, plan, GUEST_MACHINE);
  return { outcome, plan, journal, startedAt: started, endedAt: Date.now() };
}

/** The registry entry a stand-in VM wrote (vm.mjs). */
export interface VmEntry {
  id: string;
  pid: number;
  boot: 'first' | 'restored';
  bytes: number;
  patternIntact?: boolean;
}

export function vmEntry(guest: QemuGuest, id: string): VmEntry | undefined {
  const text = guest.readShare(`vms/${id}.json`);
  return text ? (JSON.parse(text) as VmEntry) : undefined;
}
