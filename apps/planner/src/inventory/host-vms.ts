import { parseVms, vmListSchema, VmValidationError, type HostTopology, type Vm } from '@luo-fleet/topology';
import { z } from 'zod';
import { fieldPath, type ApiIssue } from '../http/api-error';
import { jsonSchemaOf } from '../http/openapi';

/**
 * A host's `vms` in a registration: the one VM schema of libs/topology (parseVms), so the API, the
 * CLI's `--vms` file and the agent's `vms` hook accept exactly the same list. What needs the
 * topology (a device the host does not have) is checked once it is known: vmIssuesOnHost.
 */
export const hostVmsSchema = z
  .unknown()
  .optional()
  .transform((value, ctx): Vm[] | undefined => {
    if (value === undefined) return undefined;
    try {
      return parseVms(value);
    } catch (err) {
      if (!(err instanceof VmValidationError)) throw err;
      // parseVms names paths from `vms`; zod adds this field's own name.
      for (const issue of err.issues) ctx.addIssue({ code: 'custom', message: issue.problem, path: fieldPath(issue.path).split('.').slice(1) });
      return z.NEVER;
    }
  });

/** The devices of `vms` that `topology` lacks, as 400 issues under `prefix` (`''` or `hosts.3.`). */
export function vmIssuesOnHost(vms: readonly Vm[] | undefined, topology: HostTopology | null, prefix: string): ApiIssue[] {
  if (vms === undefined || vms.length === 0 || topology === null) return [];
  try {
    parseVms(vms, topology);
    return [];
  } catch (err) {
    if (!(err instanceof VmValidationError)) throw err;
    return err.issues.map((issue) => ({ field: fieldPath(prefix, issue.path), problem: issue.problem }));
  }
}

export function hostVmsDoc(): Record<string, unknown> {
  return {
    ...jsonSchemaOf(vmListSchema),
    description:
      "The host's VMs (design 4.5), each {id, devices, memory: {backing, sizeMiB}, balloon, virtioMem, migratable, labels?}; a device must be " +
      "one of the host's and held by one VM. Omitted for an agent-backed host sent without topology: the planner asks the agent (GET /v1/vms).",
  };
}
