/**
 * `npm run kernel:live-update`: one real Live Update of a QEMU guest, told as it happens. The guest
 * runs the LUO test kernel (built or taken from its cache by scripts/kernel/build-kernel.sh) with
 * two stand-in VMs whose guest memory is a memfd holding a known pattern; the handover machine
 * drives the guest's agent through every phase, the guest kexecs into the target kernel, and the
 * VMs come back on their preserved memory. See docs/real-kernel.md.
 */
import { InMemoryHandoverJournal, type JournalEntry } from '@luo-fleet/handover';
import { luoKernel } from '../../test/kernel/support/luo-kernel';
import { accelerator, QemuGuest } from '../../test/kernel/support/qemu-guest';
import { handOverGuest, vmEntry } from '../../test/kernel/support/guest-handover';

const VMS = [
  { id: 'vm-a', sizeMiB: 64, backing: 'shmem' as const },
  { id: 'vm-b', sizeMiB: 16, backing: 'shmem' as const },
];

/** Prints each step as the handover machine journals it. */
class TellingJournal extends InMemoryHandoverJournal {
  override async append(handoverId: string, entry: JournalEntry): Promise<void> {
    if (entry.type === 'step_end') console.log(`  ${entry.step.padEnd(12)} ${entry.ok ? 'ok' : 'FAILED'} in ${entry.durationMs} ms${entry.error ? `: ${entry.error}` : ''}`);
    if (entry.type === 'kexec_fence') console.log(`  kexec fence: boot id before ${entry.bootIdBefore}`);
    return super.append(handoverId, entry);
  }
}

async function main(): Promise<number> {
  const kernel = luoKernel();
  const guest = new QemuGuest({ name: 'live-update', hostId: 'qemu-guest-1', kernel, vms: VMS });
  try {
    await guest.start();
    console.log(`booting kernel ${kernel.release} under QEMU (${accelerator()}); its agent answers at ${guest.url}`);
    const before = await guest.waitForAgent(180_000);
    console.log(`guest up: boot id ${before.bootId}, kernel ${before.kernelRelease}, Live Update ${before.luoEnabled ? 'enabled' : 'DISABLED'}`);
    for (const vm of VMS) console.log(`  ${vm.id}: pid ${vmEntry(guest, vm.id)?.pid}, ${vm.sizeMiB} MiB memfd with its pattern`);
    console.log(`live update to ${kernel.release}:`);
    const { outcome, startedAt, endedAt } = await handOverGuest(guest, kernel.release, 'r-demo', new TellingJournal());
    console.log(`outcome: ${outcome.outcome} in ${endedAt - startedAt} ms${outcome.error ? ` (${outcome.error})` : ''}; blackout ${outcome.blackoutMs} ms`);
    console.log(`guest now: boot id ${outcome.bootId}, kernel ${outcome.kernelRelease}`);
    for (const vm of VMS) {
      const entry = vmEntry(guest, vm.id);
      console.log(`  ${vm.id}: pid ${entry?.pid}, ${entry?.boot === 'restored' ? `restored on its preserved memory, pattern ${entry.patternIntact ? 'intact' : 'DAMAGED'}` : 'not restored'}`);
    }
    return outcome.outcome === 'updated' ? 0 : 1;
  } catch (err) {
    console.error(`${(err as Error).message}\nserial log kept at ${guest.keepSerialLog()}`);
    return 1;
  } finally {
    await guest.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
