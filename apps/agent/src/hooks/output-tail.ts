import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

const MAX_TAIL_BYTES = 64 * 1024;
/** What one hook output file may hold on disk; past it only the last MAX_TAIL_BYTES are kept. */
export const OUTPUT_FILE_MAX_BYTES = 4 * 1024 * 1024;

/** The last lines of a hook's output file; only the end is read, however much the hook wrote. */
export function readOutputTail(file: string, maxLines = 20): string[] {
  const fd = openIfThere(file, 'r');
  if (fd === undefined) return [];
  try {
    const size = fstatSync(fd).size;
    const lines = readAt(fd, size - Math.min(size, MAX_TAIL_BYTES), Math.min(size, MAX_TAIL_BYTES)).toString('utf8').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-maxLines).map((l) => (l.length > 1000 ? `${l.slice(0, 1000)}…` : l));
  } finally {
    closeSync(fd);
  }
}

/**
 * The start of a file, at most `cap` bytes: an answer a hook prints is only read whole when it is
 * small enough to be one. `bytes` is the file's size, so a caller can tell a cut answer.
 */
export function readOutputHead(file: string, cap: number): { text: string; bytes: number } {
  const fd = openIfThere(file, 'r');
  if (fd === undefined) return { text: '', bytes: 0 };
  try {
    const bytes = fstatSync(fd).size;
    return { text: readAt(fd, 0, Math.min(bytes, cap)).toString('utf8'), bytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps a hook's output file within OUTPUT_FILE_MAX_BYTES: past it, the file is cut to a line
 * saying how much went followed by its last MAX_TAIL_BYTES. The hook writes through an O_APPEND
 * descriptor, so its next writes land after what is kept. Returns the bytes dropped (0 if none).
 */
export function boundOutputFile(file: string, maxBytes = OUTPUT_FILE_MAX_BYTES): number {
  const fd = openIfThere(file, constants.O_RDWR | constants.O_APPEND);
  if (fd === undefined) return 0;
  try {
    const size = fstatSync(fd).size;
    if (size <= maxBytes) return 0;
    const keep = Math.min(MAX_TAIL_BYTES, maxBytes);
    const tail = readAt(fd, size - keep, keep);
    ftruncateSync(fd, 0);
    const dropped = size - keep;
    writeSync(fd, Buffer.concat([Buffer.from(`agent: ${dropped} bytes of earlier output dropped\n`), tail]));
    return dropped;
  } finally {
    closeSync(fd);
  }
}

function openIfThere(file: string, flags: string | number): number | undefined {
  try {
    return openSync(file, flags);
  } catch {
    return undefined;
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}
