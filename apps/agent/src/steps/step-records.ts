import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentStep, StepAnswer } from '@luo-fleet/handover';

/**
 * The idempotency record of one requestId. `running` is written before the hook starts, so an
 * agent that restarts mid-step knows a hook may still be running (and which process group), and
 * never starts a second kexec.
 */
export type StepRecord =
  | {
      state: 'running';
      requestId: string;
      step: AgentStep;
      handoverId: string;
      startedAt: number;
      /** Which boot and agent process started it: a pgid is only meaningful within the same boot. */
      bootId: string;
      agentInstance: string;
      pgid?: number;
    }
  | {
      state: 'done';
      requestId: string;
      step: AgentStep;
      handoverId: string;
      startedAt: number;
      /** The HTTP status the first answer had (202 for a kexec under way). */
      status: number;
      /** The hook's process group, for diagnosis. */
      pgid?: number;
      answer: StepAnswer;
    };

/** Records on disk, one file per requestId, replaced atomically (write, fsync, rename). */
export class StepRecords {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'requests');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  read(requestId: string): StepRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.fileOf(requestId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as StepRecord;
  }

  write(record: StepRecord): void {
    const file = this.fileOf(record.requestId);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    // The rename itself must survive a crash (or a kexec) too.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  private fileOf(requestId: string): string {
    // Hashed: a requestId is the caller's string and must not choose a path.
    return join(this.dir, `${createHash('sha256').update(requestId).digest('hex')}.json`);
  }
}
