import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurably } from './step-records';

export interface KexecIssued {
  bootId: string;
  requestId: string;
  startedAt: number;
}

/**
 * The boot in which a kexec was last started, on disk beside the step records: one boot gets at
 * most one kexec, whoever asks and under whatever requestId, also across agent restarts. Only a
 * kexec whose hook said the reboot syscall returned (nothing happened) lifts it.
 */
export class KexecFence {
  private readonly file: string;

  constructor(recordsDir: string) {
    this.file = join(recordsDir, 'kexec-fence.json');
  }

  /** The kexec already started in this boot, if any. */
  issuedIn(bootId: string): KexecIssued | undefined {
    let issued: KexecIssued;
    try {
      issued = JSON.parse(readFileSync(this.file, 'utf8')) as KexecIssued;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A fence that cannot be read is kept closed rather than guessed open.
      return { bootId, requestId: '(unreadable kexec-fence.json)', startedAt: 0 };
    }
    return issued.bootId === bootId ? issued : undefined;
  }

  close(issued: KexecIssued): void {
    writeDurably(this.file, `${JSON.stringify(issued)}\n`);
  }

  /** The reboot syscall returned: this boot goes on, and may try again. */
  lift(): void {
    rmSync(this.file, { force: true });
  }
}
