import { join } from 'node:path';

/** The agent config fields that point into a test's directory: its fake /proc and /sys files, secret and state. */
export function agentPathsIn(dir: string) {
  return {
    sysfsRoot: join(dir, 'sys'),
    bootIdPath: join(dir, 'boot_id'),
    kernelReleasePath: join(dir, 'osrelease'),
    cmdlinePath: join(dir, 'cmdline'),
    liveupdateDevicePath: join(dir, 'liveupdate'),
    secretFile: join(dir, 'secret'),
    stateDir: join(dir, 'state'),
  };
}
