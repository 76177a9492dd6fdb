import { existsSync, readFileSync } from 'node:fs';
import type { IdentityAnswer } from '@luo-fleet/handover';

export interface IdentitySources {
  bootIdPath: string;
  kernelReleasePath: string;
  cmdlinePath: string;
  liveupdateDevicePath: string;
}

export class IdentityUnreadableError extends Error {
  override name = 'IdentityUnreadableError';
}

/**
 * What the host says about itself, read fresh on every call: after a kexec the same files hold the
 * new kernel's answers, and the boot id is what the orchestrator decides by.
 */
export function readHostIdentity(sources: IdentitySources): IdentityAnswer {
  const bootId = readTrimmed(sources.bootIdPath, 'boot id');
  const kernelRelease = readTrimmed(sources.kernelReleasePath, 'kernel release');
  const cmdline = readTrimmed(sources.cmdlinePath, 'kernel command line').split(/\s+/);
  const detail: string[] = [];
  if (!existsSync(sources.liveupdateDevicePath)) detail.push(`${sources.liveupdateDevicePath} does not exist`);
  for (const flag of ['liveupdate=on', 'kho=on']) {
    if (!cmdline.includes(flag)) detail.push(`kernel command line lacks ${flag}`);
  }
  const luoEnabled = detail.length === 0;
  return { bootId, kernelRelease, luoEnabled, reasons: luoEnabled ? [] : ['LUO_DISABLED'], ...(luoEnabled ? {} : { detail }) };
}

function readTrimmed(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new IdentityUnreadableError(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text === '') throw new IdentityUnreadableError(`${what}: ${path} is empty`);
  return text;
}
