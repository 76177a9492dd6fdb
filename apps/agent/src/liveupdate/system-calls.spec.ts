import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemCallError, takeProcessFd } from './system-calls';

describe('takeProcessFd (pidfd_getfd)', () => {
  it("copies another process's open fd, and names errno when it cannot", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luo-takefd-'));
    const file = join(dir, 'guest-ram');
    writeFileSync(file, 'guest memory pattern');
    // A child that holds the file open and says which fd it is.
    const child = spawn(process.execPath, ['-e', `const fd = require('fs').openSync(${JSON.stringify(file)}, 'r'); console.log(fd); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const fd = await new Promise<number>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
      const copy = takeProcessFd(child.pid!, fd);
      try {
        const bytes = Buffer.alloc(fstatSync(copy).size);
        readSync(copy, bytes, 0, bytes.length, 0);
        expect(bytes.toString()).toBe('guest memory pattern');
      } finally {
        closeSync(copy);
      }
      const error = (() => {
        try {
          takeProcessFd(child.pid!, 999);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(SystemCallError);
      expect((error as SystemCallError).code).toBe('EBADF');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
