/* global process, console, setInterval, Buffer */
// A stand-in VM inside the test guest: its guest memory is a memfd holding a known pattern, and it
// lists itself (pid, memfd fd) in the registry directory for the VMM hooks (vmm.mjs).
//   vm.mjs start <id> <sizeMiB> <shmem|hugetlb> <registryDir>   first boot: create and fill the memfd
//   vm.mjs resume <id> <registryDir>                            new kernel: memory arrives as fd 3; check it
// Either way it then runs (holds the fd) until killed.
import { fstatSync, ftruncateSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';

const PAGE = 4096;
const MFD_HUGETLB = 0x4;

/** Page `i` of VM `id`: a header naming both, then a byte that depends on both. */
export function patternPage(id, i) {
  const page = Buffer.alloc(PAGE, (i * 31 + id.length * 7) & 0xff);
  page.write(`${id}:page:${i}:`, 0, 'latin1');
  return page;
}

function register(dir, entry) {
  const file = join(dir, `${entry.id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(entry));
  renameSync(`${file}.tmp`, file);
}

function stayAlive() {
  setInterval(() => {}, 1 << 30);
  process.on('SIGTERM', () => process.exit(0));
}

function start(id, sizeMiB, backing, dir) {
  const libc = koffi.load('libc.so.6');
  const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
  const fd = memfdCreate(`guest-ram-${id}`, backing === 'hugetlb' ? MFD_HUGETLB : 0);
  if (fd < 0) throw new Error(`memfd_create: errno ${koffi.errno()}`);
  const bytes = sizeMiB * 1024 * 1024;
  ftruncateSync(fd, bytes);
  // hugetlbfs has no write(2); a refused VM's memory needs no pattern, only its backing.
  if (backing !== 'hugetlb') for (let i = 0; i < bytes / PAGE; i++) writeSync(fd, patternPage(id, i), 0, PAGE, i * PAGE);
  register(dir, { id, pid: process.pid, memory: [{ fd }], backing, bytes, boot: 'first' });
  console.log(`vm ${id}: running, pid ${process.pid}, ${backing} memfd fd ${fd}, ${bytes} bytes`);
  stayAlive();
}

function resume(id, dir) {
  const fd = 3;
  const bytes = fstatSync(fd).size;
  const page = Buffer.alloc(PAGE);
  let bad = -1;
  for (let i = 0; i < bytes / PAGE && bad < 0; i++) {
    readSync(fd, page, 0, PAGE, i * PAGE);
    if (!page.equals(patternPage(id, i))) bad = i;
  }
  const patternIntact = bytes > 0 && bad < 0;
  register(dir, { id, pid: process.pid, memory: [{ fd }], backing: 'shmem', bytes, boot: 'restored', patternIntact, ...(bad >= 0 ? { firstBadPage: bad } : {}) });
  console.log(`vm ${id}: restored, pid ${process.pid}, ${bytes} bytes, pattern ${patternIntact ? 'intact' : `differs from page ${bad}`}`);
  stayAlive();
}

const [command, ...args] = process.argv.slice(2);
if (command === 'start') start(args[0], Number(args[1]), args[2], args[3]);
else if (command === 'resume') resume(args[0], args[1]);
else {
  console.error('usage: vm.mjs start <id> <sizeMiB> <shmem|hugetlb> <dir> | resume <id> <dir>');
  process.exit(2);
}
