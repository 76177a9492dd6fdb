import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { QemuGuest } from './support/qemu-guest';
import { handOverGuest, vmEntry } from './support/guest-handover';

/*
 * The agent's Live Update driver on a real kernel: a QEMU guest booted with liveupdate=on kho=on,
 * two stand-in VMs whose guest memory is a memfd with a known pattern, one handover through the
 * handover machine. The guest kexecs for real into the same kernel and the VMs come back on their
 * preserved memory.
 */

const kernel = inject('luoKernel');
let guest: QemuGuest;

beforeAll(async () => {
  guest = new QemuGuest({
    name: 'agent-live-update',
    hostId: 'guest-lu',
    kernel,
    vms: [
      { id: 'vm-a', sizeMiB: 16, backing: 'shmem' },
      { id: 'vm-b', sizeMiB: 4, backing: 'shmem' },
    ],
  });
  await guest.start();
  await guest.waitForAgent(120_000);
});

afterAll(async () => {
  await guest?.dispose();
});

describe('a real Live Update of a QEMU guest through the agent', () => {
  it('kexecs into the target kernel with every VM memfd preserved, retrieved and finished', async () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    const before = await guest.driver().identity();
    expect(before.luoEnabled).toBe(true);
    const firstPids = ['vm-a', 'vm-b'].map((id) => vmEntry(guest, id)?.pid);

    const { outcome } = await handOverGuest(guest, kernel.release);

    expect(outcome.outcome, `${outcome.error}\n${guest.tail()}`).toBe('updated');
    expect(outcome.bootId).not.toBe(before.bootId);
    expect(outcome.kernelRelease).toBe(kernel.release);
    for (const [i, id] of ['vm-a', 'vm-b'].entries()) {
      const vm = vmEntry(guest, id);
      expect(vm, id).toMatchObject({ boot: 'restored', patternIntact: true });
      expect(vm!.pid).not.toBe(firstPids[i]);
    }
    expect(guest.lines.some((l) => /kexec_core: Starting new kernel/.test(l.text))).toBe(true);
    // finish removed the manifest: nothing is left to retrieve.
    expect(guest.readShare('state/liveupdate/sessions.json')).toBeUndefined();
  });
});
