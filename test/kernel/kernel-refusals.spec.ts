import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { foldJournal } from '@luo-fleet/handover';
import { AGENT_START_MS, QemuGuest } from './support/qemu-guest';
import { handOverGuest, vmEntry } from './support/guest-handover';

/*
 * What a real kernel refuses, and how the host is left: a guest booted without liveupdate=on has
 * no /dev/liveupdate (LUO_DISABLED, nothing done), and a VM whose memory is an MFD_HUGETLB memfd
 * cannot be preserved (memfd_luo takes shmem memfds only): preserve fails, the host is rolled back
 * on its old boot with its sessions closed and its VMs running.
 */

const kernel = inject('luoKernel');

describe('a guest booted without liveupdate=on', () => {
  let guest: QemuGuest;
  beforeAll(async () => {
    guest = new QemuGuest({ name: 'luo-disabled', hostId: 'guest-nolu', kernel, liveupdate: false, vms: [{ id: 'vm-a', sizeMiB: 4, backing: 'shmem' }] });
    await guest.start();
    await guest.waitForAgent(AGENT_START_MS);
  });
  afterAll(async () => guest?.dispose());

  it('reports LUO_DISABLED and is left alone on its boot', async () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    const identity = await guest.driver().identity();
    expect(identity.luoEnabled).toBe(false);
    expect(await guest.signedGet('/v1/identity')).toMatchObject({
      luoEnabled: false,
      reasons: ['LUO_DISABLED'],
      detail: ['/dev/liveupdate does not exist', 'kernel command line lacks liveupdate=on'],
    });

    const { outcome, journal, plan } = await handOverGuest(guest, kernel.release);
    expect(outcome.reasons, outcome.error).toContain('LUO_DISABLED');
    expect(['skipped', 'rolled_back']).toContain(outcome.outcome);
    expect(foldJournal(await journal.load(plan.handoverId)).started).not.toContain('kexec');
    expect((await guest.driver().identity()).bootId).toBe(identity.bootId);
    expect(guest.lines.some((l) => /Starting new kernel/.test(l.text))).toBe(false);
    expect(vmEntry(guest, 'vm-a')).toMatchObject({ boot: 'first' });
  });
});

describe('a VM whose guest memory is an MFD_HUGETLB memfd', () => {
  let guest: QemuGuest;
  beforeAll(async () => {
    guest = new QemuGuest({
      name: 'hugetlb-refused',
      hostId: 'guest-huge',
      kernel,
      hugepages: 16,
      vms: [
        { id: 'vm-a', sizeMiB: 4, backing: 'shmem' },
        { id: 'vm-huge', sizeMiB: 8, backing: 'hugetlb' },
      ],
    });
    await guest.start();
    await guest.waitForAgent(AGENT_START_MS);
  });
  afterAll(async () => guest?.dispose());

  it('is refused by the kernel at preserve; the host is rolled back on its old boot, sessions closed', async () => {
    onTestFailed(() => console.error(`serial log kept at ${guest.keepSerialLog()}`));
    const before = await guest.driver().identity();
    expect(before.luoEnabled).toBe(true);
    const { outcome } = await handOverGuest(guest, kernel.release);

    expect(outcome.outcome, outcome.error).toBe('rolled_back');
    expect(outcome.phase).toBe('preserve');
    expect(outcome.error).toMatch(/vm-huge|LIVEUPDATE_SESSION_PRESERVE_FD/);
    expect(outcome.error).toContain('closed again');
    expect((await guest.driver().identity()).bootId).toBe(before.bootId);
    expect(guest.lines.some((l) => /Starting new kernel/.test(l.text))).toBe(false);
    expect(guest.readShare('state/liveupdate/sessions.json')).toBeUndefined();
    // Nothing was paused, and the VMs run on as they were.
    for (const id of ['vm-a', 'vm-huge']) expect(vmEntry(guest, id), id).toMatchObject({ boot: 'first' });
  });
});
