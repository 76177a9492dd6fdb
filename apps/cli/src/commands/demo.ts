import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { CliInputError } from '../input-error';
import { makePlan } from './plan-input';
import { planJson, planTable } from './plan-output';

const SAMPLE_HOST = join('test', 'fixtures', 'sample-host');

/** The shipped sample host, found from wherever the CLI runs (sources or dist/). */
export function sampleHostDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SAMPLE_HOST, 'bus'))) return join(dir, SAMPLE_HOST);
    if (dirname(dir) === dir) throw new CliInputError(`the shipped sample host ${SAMPLE_HOST} is missing from this checkout`);
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('plan the shipped sample host (simulated data): what `plan` tells you')
    .option('--strict-acs', 'also require ACS enabled on the whole path to the root bus')
    .option('--json', 'print one JSON object')
    .action(async (flags: { strictAcs?: boolean; json?: boolean }) => {
      const sysfs = sampleHostDir();
      const shown = relative(process.cwd(), sysfs) || sysfs;
      const set = await makePlan({ sysfs, strictAcs: flags.strictAcs });
      if (flags.json) {
        process.stdout.write(`${planJson(set, shown)}\n`);
        return;
      }
      process.stdout.write(
        [
          `Demo: planning ${shown}, a shipped sample host (simulated data, not this machine):`,
          '64 PCI devices: NVMe drives and GPUs for VMs, SR-IOV NICs, shared IOMMU groups, a VMD domain.',
          `Run the same on a real host: npx luo-fleet plan --sysfs /sys${flags.strictAcs ? ' --strict-acs' : ''}`,
          '',
          planTable(set, shown),
          '',
        ].join('\n'),
      );
    });
}
