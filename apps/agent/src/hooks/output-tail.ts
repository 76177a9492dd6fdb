import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_TAIL_BYTES = 64 * 1024;

/** The last lines of a hook's output file; only the end is read, however much the hook wrote. */
export function readOutputTail(file: string, maxLines = 20): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, MAX_TAIL_BYTES);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-maxLines).map((l) => (l.length > 1000 ? `${l.slice(0, 1000)}…` : l));
  } finally {
    closeSync(fd);
  }
}
