/**
 * The Live Update Orchestrator's userspace interface, as include/uapi/linux/liveupdate.h defines
 * it: ioctl numbers and the byte layout of each argument. Every argument starts with its own size
 * (a u32), so the kernel can tell a newer, larger struct from an older one.
 */

const LIVEUPDATE_IOCTL_TYPE = 0xba;
/** `_IO(type, nr)`: no direction or size bits; the struct carries its size itself. */
const io = (nr: number) => (LIVEUPDATE_IOCTL_TYPE << 8) | nr;

export const LIVEUPDATE_IOCTL = {
  /** On /dev/liveupdate. */
  CREATE_SESSION: io(0x00),
  RETRIEVE_SESSION: io(0x01),
  /** On a session fd. */
  SESSION_PRESERVE_FD: io(0x40),
  SESSION_RETRIEVE_FD: io(0x41),
  SESSION_FINISH: io(0x42),
  SESSION_GET_NAME: io(0x43),
} as const;

/** Including the terminating NUL. */
export const SESSION_NAME_LENGTH = 64;

/** `struct liveupdate_ioctl_create_session` and `..._retrieve_session`: u32 size, s32 fd (out), u8 name[64]. */
export function sessionByName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length >= SESSION_NAME_LENGTH) {
    throw new RangeError(`a session name has 1 to ${SESSION_NAME_LENGTH - 1} bytes; ${JSON.stringify(name)} has ${bytes.length}`);
  }
  const arg = Buffer.alloc(8 + SESSION_NAME_LENGTH);
  arg.writeUInt32LE(arg.length, 0);
  arg.writeInt32LE(-1, 4);
  bytes.copy(arg, 8);
  return arg;
}

/** `struct liveupdate_session_preserve_fd` and `..._retrieve_fd`: u32 size, s32 fd, aligned u64 token. */
export function fdWithToken(fd: number, token: bigint): Buffer {
  const arg = Buffer.alloc(16);
  arg.writeUInt32LE(arg.length, 0);
  arg.writeInt32LE(fd, 4);
  arg.writeBigUInt64LE(token, 8);
  return arg;
}

/** `struct liveupdate_session_finish`: u32 size, u32 reserved (zero). */
export function sessionFinish(): Buffer {
  const arg = Buffer.alloc(8);
  arg.writeUInt32LE(arg.length, 0);
  return arg;
}

/** The fd the kernel wrote into an argument (create/retrieve session, retrieve fd). */
export function fdOut(arg: Buffer): number {
  return arg.readInt32LE(4);
}
