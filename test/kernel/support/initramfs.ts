import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_DIR } from './repo-paths';

/** One entry of a newc cpio archive (the format the kernel unpacks an initramfs from). */
type CpioEntry =
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'file'; mode: number; data: Buffer }
  | { path: string; kind: 'char'; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

const hex = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

/** "070701" newc: a 110-byte ASCII header, the NUL-terminated name and the data, each padded to 4 bytes. */
export function newcArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]) => {
    const nameBytes = Buffer.from(`${name}\0`, 'latin1');
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1');
    parts.push(header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length));
  };
  for (const e of entries) {
    if (e.kind === 'dir') add(e.path, S_IFDIR | e.mode, Buffer.alloc(0));
    else if (e.kind === 'file') add(e.path, S_IFREG | e.mode, e.data);
    else add(e.path, S_IFCHR | e.mode, Buffer.alloc(0), [e.major, e.minor]);
  }
  add('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

const BUSYBOX = '/bin/busybox';

/**
 * The test guest's initramfs: Debian's static busybox and init.sh as /init. Everything else the
 * guest runs comes from the host's root over virtio-9p.
 */
export function writeInitramfs(file: string): void {
  let busybox: Buffer;
  try {
    busybox = readFileSync(BUSYBOX);
  } catch {
    throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  }
  const archive = newcArchive([
    { path: 'bin', kind: 'dir', mode: 0o755 },
    { path: 'dev', kind: 'dir', mode: 0o755 },
    { path: 'dev/console', kind: 'char', mode: 0o600, major: 5, minor: 1 },
    { path: 'proc', kind: 'dir', mode: 0o755 },
    { path: 'sys', kind: 'dir', mode: 0o755 },
    { path: 'newroot', kind: 'dir', mode: 0o755 },
    { path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox },
    { path: 'init', kind: 'file', mode: 0o755, data: readFileSync(join(GUEST_DIR, 'init.sh')) },
  ]);
  writeFileSync(file, archive);
}
