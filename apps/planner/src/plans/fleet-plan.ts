import {
  addVmCounts,
  buildPreservationSet,
  DEFAULT_PROFILE,
  DEVICE_REASONS,
  emptyVmCounts,
  HOST_REASONS,
  type DeviceReason,
  type HostReason,
  type PreservationSet,
  type VmCounts,
} from '@luo-fleet/preservation';
import { hostReasonsOf, type InventoryHost } from '@luo-fleet/store';
import type { Bdf } from '@luo-fleet/topology';

export interface HostPlan {
  id: string;
  labels: Record<string, string>;
  /** Every requested device can be preserved and nothing of the host itself stops a Live Update. */
  eligible: boolean;
  /** Null when the host has no registered topology, so nothing can be judged yet. */
  preservation: PreservationSet | null;
  /** Host-level codes (design 4.1) its inventory facts imply, e.g. `LUO_DISABLED`; absent when none. */
  hostReasons?: HostReason[];
  problem?: string;
}

export interface FleetPlanSummary {
  /** Selected hosts: eligible + ineligible + unplanned. */
  hosts: number;
  /** Every requested device can be preserved, and no host-level code. */
  eligible: number;
  /** At least one requested device cannot be preserved, or a host-level code (`LUO_DISABLED`). */
  ineligible: number;
  /** No topology registered: cannot be judged. */
  unplanned: number;
  devices: { requested: number; preservable: number; rejected: number };
  /** Rejected devices across the fleet, by first reason (what the kernel would return). */
  byReason: Partial<Record<DeviceReason, number>>;
  /** Ineligible hosts by their first host-level code, else the first reason of their first rejected device. */
  hostsByReason: Partial<Record<HostReason | DeviceReason, number>>;
  /** The planned hosts' VMs by verdict (design 4.5), and how many hosts with VMs could carry every one. */
  vms: VmCounts & { hostsWithVms: number; hostsAllPreservable: number };
}

export interface FleetPlan {
  profile: string;
  strictAcs: boolean;
  summary: FleetPlanSummary;
  /** One page of hosts, in id order (omitted when includeHosts is false). */
  hosts?: HostPlan[];
  nextCursor?: string | null;
}

export interface FleetPlanOptions {
  profile?: string;
  strictAcs: boolean;
  devices?: Record<string, Bdf[]>;
  page?: { limit: number; cursor?: string };
}

function inReasonOrder<R extends HostReason | DeviceReason>(counts: Partial<Record<R, number>>): Partial<Record<R, number>> {
  const ordered: Partial<Record<R, number>> = {};
  for (const reason of [...HOST_REASONS, ...DEVICE_REASONS] as R[]) if (counts[reason]) ordered[reason] = counts[reason];
  return ordered;
}

/**
 * Judges every selected host under one rule profile. The summary covers all of them; only the
 * requested page of per-host plans is kept, so a large fleet is summarised in constant memory.
 */
export async function planFleet(chunks: AsyncIterable<InventoryHost[]>, opts: FleetPlanOptions): Promise<FleetPlan> {
  const summary: FleetPlanSummary = {
    hosts: 0,
    eligible: 0,
    ineligible: 0,
    unplanned: 0,
    devices: { requested: 0, preservable: 0, rejected: 0 },
    byReason: {},
    hostsByReason: {},
    vms: { ...emptyVmCounts(), hostsWithVms: 0, hostsAllPreservable: 0 },
  };
  const page: HostPlan[] = [];
  let nextCursor: string | null = null;
  for await (const chunk of chunks) {
    for (const host of chunk) {
      summary.hosts++;
      let plan: HostPlan;
      if (host.topology === null) {
        summary.unplanned++;
        plan = { id: host.id, labels: host.labels, eligible: false, preservation: null, problem: 'no topology registered for this host' };
      } else {
        const set = buildPreservationSet(host.topology, opts.devices?.[host.id], { profile: opts.profile, strictAcs: opts.strictAcs, vms: host.vms });
        const s = set.summary;
        const vms = s.vms!;
        addVmCounts(summary.vms, vms);
        if (vms.total > 0) {
          summary.vms.hostsWithVms++;
          if (vms.rejected === 0) summary.vms.hostsAllPreservable++;
        }
        const hostReasons = hostReasonsOf(host);
        const eligible = s.eligible && hostReasons.length === 0;
        if (eligible) summary.eligible++;
        else summary.ineligible++;
        summary.devices.requested += s.requested;
        summary.devices.preservable += s.preservable;
        summary.devices.rejected += s.rejected;
        for (const [reason, n] of Object.entries(s.byReason) as Array<[DeviceReason, number]>) summary.byReason[reason] = (summary.byReason[reason] ?? 0) + n;
        const first = hostReasons[0] ?? set.devices.find((d) => !d.preservable)?.reasons[0];
        if (first) summary.hostsByReason[first] = (summary.hostsByReason[first] ?? 0) + 1;
        plan = { id: host.id, labels: host.labels, eligible, preservation: set, ...(hostReasons.length > 0 ? { hostReasons } : {}) };
      }
      const p = opts.page;
      if (p && (p.cursor === undefined || host.id > p.cursor)) {
        if (page.length < p.limit) page.push(plan);
        else if (nextCursor === null) nextCursor = page[page.length - 1].id;
      }
    }
  }
  summary.byReason = inReasonOrder(summary.byReason);
  summary.hostsByReason = inReasonOrder(summary.hostsByReason);
  const plan: FleetPlan = { profile: opts.profile ?? DEFAULT_PROFILE, strictAcs: opts.strictAcs, summary };
  if (opts.page) {
    plan.hosts = page;
    plan.nextCursor = nextCursor;
  }
  return plan;
}
