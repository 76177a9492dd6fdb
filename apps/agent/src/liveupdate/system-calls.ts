import type Koffi from 'koffi';
import { constants } from 'node:os';

/**
 * The few system calls Node has no binding for, through libc (koffi): ioctl on /dev/liveupdate and
 * its session fds, and pidfd_getfd to take a copy of a VMM's guest-memory fd. koffi itself is
 * loaded on first use, not at start: it is a good part of the agent's start-up time, and the agent
 * must answer as soon as it can after a kexec (retrieve comes after that).
 */
interface Libc {
  ioctl(fd: number, request: number, arg: Buffer): number;
  syscall(nr: number, ...typedArgs: unknown[]): number;
  close(fd: number): number;
  errno(): number;
}

/** Numbers shared by every architecture's table since 5.3 (the generic syscall numbering). */
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)') as Libc['ioctl'],
    syscall: lib.func('long syscall(long number, ...)') as Libc['syscall'],
    close: lib.func('int close(int fd)') as Libc['close'],
    errno: () => koffi.errno(),
  };
  return libc;
}

/** A failed system call, with errno's name (`EBUSY`) as `code`, as Node's own errors have it. */
export class SystemCallError extends Error {
  override name = 'SystemCallError';
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    const code = errnoName(errno);
    super(`${call}: ${code}`);
    this.code = code;
  }
  readonly code: string;
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

function check(call: string, result: number): number {
  if (result < 0) throw new SystemCallError(call, load().errno());
  return result;
}

/** ioctl(fd, request, arg): the kernel reads and writes `arg` in place. */
export function ioctl(call: string, fd: number, request: number, arg: Buffer): void {
  check(call, load().ioctl(fd, request, arg));
}

/**
 * A new fd in this process for the same open file as `fd` in process `pid` (pidfd_getfd(2)): the
 * same memfd, not a reopened one. Needs ptrace rights over that process (root has them).
 */
export function takeProcessFd(pid: number, fd: number): number {
  const lib = load();
  const pidfd = check(`pidfd_open(${pid})`, lib.syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', 0));
  try {
    return check(`pidfd_getfd(${pid}, ${fd})`, lib.syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', fd, 'uint', 0));
  } finally {
    lib.close(pidfd);
  }
}
