import { buildPreservationSet, type PreservationSet, UnknownProfileError } from '@luo-fleet/preservation';
import { type Bdf, BdfError, parseBdf, readSysfsTopology, SysfsError } from '@luo-fleet/topology';
import { CliInputError } from '../input-error';

export interface PlanRequest {
  sysfs: string;
  devices?: string;
  strictAcs?: boolean;
  profile?: string;
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

/** Reads the sysfs tree and judges the devices; every bad-input case becomes a CliInputError. */
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
  try {
    return buildPreservationSet(topology, requested, { profile: req.profile, strictAcs: req.strictAcs === true });
  } catch (err) {
    if (err instanceof UnknownProfileError) throw new CliInputError(`--profile: ${err.message}`);
    throw err;
  }
}
