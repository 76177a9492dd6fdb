import { z } from 'zod';
import { compareBdf, isBdf } from './bdf';
import { describeIssues, type InputIssue, issuesOf } from './input-issue';
import type { HostTopology } from './model';

/** Where the problem is, e.g. `devices[3].bdf` or `iommuGroups.12[0]`, and what it is. */
export type TopologyIssue = InputIssue;

/** A HostTopology JSON document that is not one; `issues` names every wrong field. */
export class TopologyValidationError extends Error {
  constructor(readonly issues: TopologyIssue[]) {
    super(`invalid host topology: ${describeIssues(issues)}`);
    this.name = 'TopologyValidationError';
  }
}

const bdf = z.string().refine(isBdf, { error: 'not a PCI address (dddd:bb:dd.f, lower case)' });
const u16 = z.number().int().min(0).max(0xffff);
const pcieType = z.enum([
  'endpoint',
  'legacy_endpoint',
  'root_port',
  'upstream_port',
  'downstream_port',
  'pcie_to_pci_bridge',
  'pci_to_pcie_bridge',
  'rc_integrated_endpoint',
  'rc_event_collector',
  'conventional',
  'unknown',
]);
const acs = z.discriminatedUnion('state', [
  z.object({ state: z.literal('present'), capability: u16, control: u16 }),
  z.object({ state: z.literal('absent') }),
  z.object({ state: z.literal('unknown') }),
]);

export const pciDeviceSchema = z.object({
  bdf,
  vendor: u16,
  device: u16,
  class: z.number().int().min(0).max(0xffffff),
  driver: z.string().min(1).nullable(),
  parentChain: z.array(bdf),
  isVirtfn: z.boolean(),
  physfn: bdf.nullable(),
  isPhysfn: z.boolean(),
  sriovTotalVfs: u16,
  virtfns: z.array(bdf),
  iommuGroup: z.number().int().min(0).nullable(),
  pcieType,
  multifunction: z.boolean(),
  acs,
});

/** The JSON form of HostTopology (same shape; unknown extra fields are dropped). */
export const hostTopologySchema = z.object({
  devices: z.array(pciDeviceSchema),
  iommuGroups: z.record(z.string().regex(/^(0|[1-9]\d*)$/, { error: 'group key is not a decimal number' }), z.array(bdf)),
});

/** Checks what the schema cannot: references between devices and groups. */
function crossCheck(t: HostTopology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const index = new Map<string, number>();
  t.devices.forEach((d, i) => {
    const first = index.get(d.bdf);
    if (first !== undefined) issues.push({ path: `devices[${i}].bdf`, problem: `${d.bdf} is listed twice (also devices[${first}])` });
    else index.set(d.bdf, i);
  });
  const unknown = (path: string, ref: string) => {
    if (!index.has(ref)) issues.push({ path, problem: `${ref} is not among devices` });
  };
  t.devices.forEach((d, i) => {
    const at = `devices[${i}]`;
    d.parentChain.forEach((p, j) => unknown(`${at}.parentChain[${j}]`, p));
    if (d.physfn !== null) unknown(`${at}.physfn`, d.physfn);
    d.virtfns.forEach((vf, j) => unknown(`${at}.virtfns[${j}]`, vf));
    if (d.isVirtfn !== (d.physfn !== null)) {
      issues.push({ path: `${at}.isVirtfn`, problem: `is ${d.isVirtfn} but physfn is ${d.physfn === null ? 'null' : 'set'}` });
    }
    if (d.iommuGroup !== null) {
      const members = t.iommuGroups[String(d.iommuGroup)];
      if (!members) issues.push({ path: `${at}.iommuGroup`, problem: `group ${d.iommuGroup} is not in iommuGroups` });
      else if (!members.includes(d.bdf)) issues.push({ path: `${at}.iommuGroup`, problem: `iommuGroups.${d.iommuGroup} does not list ${d.bdf}` });
    }
  });
  for (const [group, members] of Object.entries(t.iommuGroups)) {
    members.forEach((m, j) => {
      const path = `iommuGroups.${group}[${j}]`;
      const i = index.get(m);
      if (i === undefined) issues.push({ path, problem: `${m} is not among devices` });
      else if (t.devices[i].iommuGroup !== Number(group)) {
        issues.push({ path, problem: `lists ${m}, whose iommuGroup is ${t.devices[i].iommuGroup}` });
      }
    });
  }
  return issues;
}

/** Validates a HostTopology in JSON form; devices and group members come back sorted by BDF. */
export function parseHostTopology(input: unknown): HostTopology {
  const parsed = hostTopologySchema.safeParse(input);
  if (!parsed.success) {
    throw new TopologyValidationError(issuesOf(parsed.error));
  }
  const topology: HostTopology = parsed.data;
  const issues = crossCheck(topology);
  if (issues.length > 0) throw new TopologyValidationError(issues);
  topology.devices.sort((a, b) => compareBdf(a.bdf, b.bdf));
  for (const members of Object.values(topology.iommuGroups)) members.sort(compareBdf);
  return topology;
}

export function serializeHostTopology(topology: HostTopology): string {
  return JSON.stringify(topology, null, 2);
}
