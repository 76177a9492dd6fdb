import { readFile } from 'node:fs/promises';
import { buildPreservationSet, type PreservationSet, UnknownProfileError } from '@luo-fleet/preservation';
import {
  type Bdf,
  BdfError,
  describeIssues,
  type HostTopology,
  parseBdf,
  parseVms,
  readSysfsTopology,
  SysfsError,
  type Vm,
  VmValidationError,
} from '@luo-fleet/topology';
import { CliInputError } from '../input-error';

export interface PlanRequest {
  sysfs: string;
  devices?: string;
  strictAcs?: boolean;
  profile?: string;
  /** A JSON file with the host's VMs (design 4.5). */
  vms?: string;
}

/** `--devices a,b,...` to canonical BDFs, in the order given, each once. */
export function parseDeviceList(list: string): Bdf[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new CliInputError('--devices: no PCI address given');
  const out: Bdf[] = [];
  for (const item of items) {
    try {
      const bdf = parseBdf(item);
      if (!out.includes(bdf)) out.push(bdf);
    } catch (err) {
      if (err instanceof BdfError) throw new CliInputError(`--devices: ${err.message}`);
      throw err;
    }
  }
  return out;
}

/** `--vms FILE`: the host's VMs, checked against its topology; any fault is one line naming the field. */
export async function readVmFile(file: string, topology: HostTopology): Promise<Vm[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliInputError(`--vms ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new CliInputError(`--vms ${file}: not JSON (${(err as Error).message})`);
  }
  try {
    return parseVms(input, topology);
  } catch (err) {
    if (err instanceof VmValidationError) throw new CliInputError(`--vms ${file}: ${describeIssues(err.issues)}`);
    throw err;
  }
}

/** Reads the sysfs tree (and the VMs) and judges the devices; every bad-input case becomes a CliInputError. */
export async function makePlan(req: PlanRequest): Promise<PreservationSet> {
  const requested = req.devices === undefined ? undefined : parseDeviceList(req.devices);
  let topology;
  try {
    topology = await readSysfsTopology(req.sysfs);
  } catch (err) {
    if (err instanceof SysfsError) {
      const where = err.file ? `${err.file}: ` : '';
      throw new CliInputError(`cannot read sysfs tree ${req.sysfs}: ${where}${err.problem}`);
    }
    throw err;
  }
  const vms = req.vms === undefined ? undefined : await readVmFile(req.vms, topology);
  try {
    return buildPreservationSet(topology, requested, { profile: req.profile, strictAcs: req.strictAcs === true, vms });
  } catch (err) {
    if (err instanceof UnknownProfileError) throw new CliInputError(`--profile: ${err.message}`);
    throw err;
  }
}
