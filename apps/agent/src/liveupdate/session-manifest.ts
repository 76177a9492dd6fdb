import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDurably } from '../steps/step-records';
import { SESSION_NAME_LENGTH } from './liveupdate-uapi';

/**
 * What the old kernel's agent preserved, on disk in the state dir (which survives the kexec): the
 * new kernel's agent must know every session's name and every fd's token to retrieve them.
 */
const manifestSchema = z.object({
  handoverId: z.string(),
  /** The boot id of the kernel that preserved the sessions. */
  preservedInBoot: z.string(),
  sessions: z.array(
    z.object({
      vm: z.string(),
      name: z.string(),
      /** Decimal u64 tokens, one per guest-memory fd, in the order the VMM listed them. */
      tokens: z.array(z.string().regex(/^\d+$/)),
    }),
  ),
  /** Set once the VMM took the retrieved memory back in this boot. */
  restoredInBoot: z.string().optional(),
});
export type SessionManifest = z.output<typeof manifestSchema>;

const PREFIX = 'luo-fleet/';

/** One session per VM, named after it; a VM id too long for a session name is named by its hash. */
export function sessionNameOf(vm: string): string {
  const name = `${PREFIX}${vm}`;
  if (Buffer.byteLength(name) < SESSION_NAME_LENGTH) return name;
  return `${PREFIX}sha256:${createHash('sha256').update(vm).digest('hex').slice(0, 40)}`;
}

export class SessionManifestFile {
  private readonly file: string;

  constructor(stateDir: string) {
    const dir = join(stateDir, 'liveupdate');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'sessions.json');
  }

  read(): SessionManifest | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return manifestSchema.parse(JSON.parse(text));
  }

  write(manifest: SessionManifest): void {
    writeDurably(this.file, `${JSON.stringify(manifest, null, 2)}\n`);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
