import { DEFAULT_PROFILE } from '@luo-fleet/preservation';
import type { Command } from 'commander';
import { makePlan } from './plan-input';
import { planJson, planTable } from './plan-output';

interface PlanFlags {
  sysfs: string;
  devices?: string;
  strictAcs?: boolean;
  profile: string;
  vms?: string;
  json?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('which PCI devices and VMs of a host can be preserved across a Live Update, and why not')
    .option('--sysfs <dir>', 'root of the sysfs tree to read', '/sys')
    .option('--devices <bdf,...>', 'devices to preserve (default: every device bound to vfio-pci)')
    .option('--strict-acs', 'also require ACS enabled on the whole path to the root bus')
    .option('--profile <name>', 'rule profile of the target kernel', DEFAULT_PROFILE)
    .option('--vms <file>', "the host's VMs (JSON array): judge each VM and every device it holds")
    .option('--json', 'print one JSON object')
    .action(async (flags: PlanFlags) => {
      const set = await makePlan(flags);
      process.stdout.write(`${flags.json ? planJson(set, flags.sysfs) : planTable(set, flags.sysfs)}\n`);
    });
}
