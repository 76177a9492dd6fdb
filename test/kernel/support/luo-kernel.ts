import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './repo-paths';

const BUILD_SCRIPT = resolve(REPO_ROOT, 'scripts/kernel/build-kernel.sh');

export interface LuoKernel {
  bzImage: string;
  /** What `uname -r` says once it runs: the rollouts' target kernel. */
  release: string;
}

/**
 * The LUO test kernel: scripts/kernel/build-kernel.sh prints the cached bzImage's path as its last
 * line, building it first (20-40 minutes on 2 cores) when the cache lacks it. LUO_KERNEL_IMAGE
 * names an image to use instead.
 */
export function luoKernel(): LuoKernel {
  let bzImage = process.env.LUO_KERNEL_IMAGE;
  if (!bzImage) {
    const run = spawnSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${BUILD_SCRIPT} exited ${run.status}`);
    bzImage = run.stdout.trim().split('\n').pop() ?? '';
  }
  if (!existsSync(bzImage)) throw new Error(`no kernel image at ${JSON.stringify(bzImage)}`);
  return { bzImage, release: bzImageRelease(bzImage) };
}

/**
 * The release from a bzImage's setup header (Documentation/arch/x86/boot.rst): the u16 at 0x20e
 * points, relative to 0x200, at the NUL-terminated version string, which starts with the release.
 */
export function bzImageRelease(bzImage: string): string {
  const image = readFileSync(bzImage);
  if (image.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error(`${bzImage} is not a bzImage`);
  const at = 0x200 + image.readUInt16LE(0x20e);
  const version = image.toString('latin1', at, image.indexOf(0, at));
  return version.split(' ')[0];
}
