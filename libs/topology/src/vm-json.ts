import { z } from 'zod';
import { BdfError, parseBdf } from './bdf';
import { describeIssues, type InputIssue, issuesOf } from './input-issue';
import type { Bdf, HostTopology } from './model';
import { MEMORY_BACKINGS, type Vm } from './vm';

/** A VM list in JSON form that is not one; `issues` names every wrong field (`vms[2].memory.backing`). */
export class VmValidationError extends Error {
  constructor(readonly issues: InputIssue[]) {
    super(`invalid VM list: ${describeIssues(issues)}`);
    this.name = 'VmValidationError';
  }
}

/** Any PCI address form `parseBdf` reads, canonicalised, so a VM file may use `3b:00.0`. */
const bdf = z.string().transform((text, ctx): Bdf => {
  try {
    return parseBdf(text);
  } catch (err) {
    if (!(err instanceof BdfError)) throw err;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a PCI address (${err.problem})` });
    return z.NEVER;
  }
});

/*
 * Labels are copied into a null-prototype object by hand: a record schema would drop a `__proto__`
 * key (or, on a plain object, assign the prototype), and labels are the operator's, every key kept.
 */
const labels = z.unknown().transform((value, ctx): Readonly<Record<string, string>> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of text labels' });
    return z.NEVER;
  }
  const out: Record<string, string> = Object.create(null);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text === 'string') out[key] = text;
    else ctx.addIssue({ code: 'custom', path: [key], message: `expected text, received ${text === null ? 'null' : typeof text}` });
  }
  return out;
});

export const vmSchema = z.object({
  id: z.string().min(1, { error: 'expected a non-empty id' }),
  devices: z.array(bdf),
  memory: z.object({
    backing: z.enum(MEMORY_BACKINGS),
    sizeMiB: z.number().int().min(1, { error: 'expected a whole number of MiB, at least 1' }),
  }),
  balloon: z.boolean(),
  virtioMem: z.boolean(),
  migratable: z.boolean(),
  labels: labels.optional(),
});

/** The JSON form of a host's VMs: an array (unknown extra fields of a VM are dropped). */
export const vmListSchema = z.array(vmSchema);

/** What the schema cannot check: ids and devices held twice, devices the host does not have. */
function crossCheck(vms: readonly Vm[], topology: HostTopology | undefined): InputIssue[] {
  const issues: InputIssue[] = [];
  const ids = new Map<string, number>();
  const holders = new Map<Bdf, string>();
  const onHost = topology === undefined ? undefined : new Set(topology.devices.map((d) => d.bdf));
  vms.forEach((vm, i) => {
    const first = ids.get(vm.id);
    if (first !== undefined) issues.push({ path: `vms[${i}].id`, problem: `${vm.id} is listed twice (also vms[${first}])` });
    else ids.set(vm.id, i);
    vm.devices.forEach((device, j) => {
      const path = `vms[${i}].devices[${j}]`;
      const holder = holders.get(device);
      if (holder !== undefined) {
        issues.push({ path, problem: `${device} is held by two VMs (also by ${holder})` });
        return;
      }
      holders.set(device, `${vm.id} at vms[${i}].devices[${j}]`);
      if (onHost !== undefined && !onHost.has(device)) issues.push({ path, problem: `${device} is not a PCI device of this host` });
    });
  });
  return issues;
}

/**
 * Validates a host's VMs in JSON form, in the given order, BDFs canonical. With the host's topology,
 * a device it does not have is an error too. Throws VmValidationError naming every wrong field.
 */
export function parseVms(input: unknown, topology?: HostTopology): Vm[] {
  const parsed = vmListSchema.safeParse(input);
  if (!parsed.success) throw new VmValidationError(issuesOf(parsed.error, ['vms']));
  const vms: Vm[] = parsed.data;
  const issues = crossCheck(vms, topology);
  if (issues.length > 0) throw new VmValidationError(issues);
  return vms;
}
