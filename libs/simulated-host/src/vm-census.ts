import { isDown, type SimulatedHostState } from './simulated-host-state';
import type { VmPlacements } from './simulated-host-store';

/** A simulated host as registered, with its VMs' fleet-wide names (vmName) before the rollout. */
export interface CensusHost {
  id: string;
  vms: readonly string[];
}

/** A VM on exactly one host, listed there only, that does not run there. */
export interface IdleVm {
  name: string;
  /** The host it is on. */
  at: string;
  /** The host it was registered on. */
  home: string;
}

/** Where the fleet's VMs are after a rollout, by the simulated hosts' own records. */
export interface VmCensus {
  /** Every VM registered before. */
  vms: number;
  /** Running on exactly one host and listed by that host only. */
  running: number;
  /** Of those running, on a host other than their home (migrated). */
  moved: number;
  /** On one host, listed there only, but not running (stopped, lost, or the host is down). */
  idle: IdleVm[];
  /** On no host, or listed by a host other than theirs, or by several: a VM lost or duplicated. */
  misplaced: string[];
}

/**
 * Counts every VM the fleet had before: each must be on exactly one host, named by that host's
 * list only, and running there (the host up; at home, its VMs running, not lost, not stopped).
 * A host with no record was never simulated (skipped, or never started): its VMs run at home,
 * untouched. The records are read after the rollout ended; `now` decides whether a host is down.
 */
export function takeVmCensus(
  hosts: readonly CensusHost[],
  placements: VmPlacements,
  records: ReadonlyMap<string, SimulatedHostState | null>,
  now: number,
): VmCensus {
  const { hostOf, lists } = placements;
  const listedOn = new Map<string, string[]>();
  for (const [host, names] of lists) for (const name of names) listedOn.set(name, [...(listedOn.get(name) ?? []), host]);
  const census: VmCensus = { vms: 0, running: 0, moved: 0, idle: [], misplaced: [] };
  for (const host of hosts) {
    for (const name of host.vms) {
      census.vms++;
      const at = hostOf.get(name);
      if (at === undefined) {
        if ((records.get(host.id) ?? null) === null) census.running++;
        else census.misplaced.push(`${name}: on no host`);
        continue;
      }
      const listed = listedOn.get(name) ?? [];
      if (listed.length !== 1 || listed[0] !== at) {
        census.misplaced.push(`${name}: runs on ${at}, listed on ${listed.join(',') || 'none'}`);
        continue;
      }
      const rec = records.get(at) ?? null;
      const vmId = name.slice(host.id.length + 1);
      const home = at === host.id;
      const runs = rec !== null && !isDown(rec, now) && (!home || (rec.vmsRunning && !rec.vmsLost && !(rec.stoppedVms ?? []).includes(vmId)));
      if (!runs) {
        census.idle.push({ name, at, home: host.id });
        continue;
      }
      census.running++;
      if (!home) census.moved++;
    }
  }
  return census;
}
