import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  readonly dir: string;

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
    writeDurably(this.fileOf(record.requestId), `${JSON.stringify(record)}\n`);
  }

  /** Every `running` record: steps an earlier agent process started and did not see end. */
  running(): Extract<StepRecord, { state: 'running' }>[] {
    const out: Extract<StepRecord, { state: 'running' }>[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      try {
        const record = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as StepRecord;
        if (record.state === 'running') out.push(record);
      } catch {
        // Unreadable: nothing to act on.
      }
    }
    return out;
  }

  /** Forgets a record whose hook never started, so that a retry runs it. */
  remove(requestId: string): void {
    rmSync(this.fileOf(requestId), { force: true });
  }

  private fileOf(requestId: string): string {
    // Hashed: a requestId is the caller's string and must not choose a path.
    return join(this.dir, `${createHash('sha256').update(requestId).digest('hex')}.json`);
  }
}

/** Replaces a file atomically and durably (write, fsync, rename, fsync the directory). */
export function writeDurably(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // The rename itself must survive a crash (or a kexec) too.
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
