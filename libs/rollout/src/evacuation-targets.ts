import type { VmMigration } from '@luo-fleet/handover';

/** What a host can run: a number of VMs, or vCPUs and memory. */
export type HostCapacity = { slots: number } | { vcpus: number; memoryMiB: number };

/** What a VM takes on a host: one slot, or its vCPUs and memory. */
export interface VmSize {
  vcpus: number;
  memoryMiB: number;
}

export interface EvacuatedVm extends VmSize {
  id: string;
}

/** A host that might take VMs. */
export interface TargetHost {
  hostId: string;
  capacity: HostCapacity;
  /** What runs there now, its own VMs, reservations not counted. */
  load: { vms: number } & VmSize;
  /** Already on the rollout's target kernel: a VM moved there is not disrupted again. */
  onTargetKernel: boolean;
  /** Its failure-domain label's value (rack, zone). */
  domain: string;
}

/** Room held on a target for one VM until its migration ends. */
export interface CapacityReservation extends VmSize {
  vmId: string;
  sourceHostId: string;
  targetHostId: string;
}

export interface EvacuationRequest {
  source: { hostId: string; domain: string; vms: readonly EvacuatedVm[] };
  hosts: readonly TargetHost[];
  /** Hosts in flight or about to be: they are going away, never targets. */
  busy: ReadonlySet<string>;
  /** Reservations already held (other evacuations in flight). */
  reservations: readonly CapacityReservation[];
  /** Targets only in the source's failure domain (`evacuation.sameDomain`). */
  sameDomain: boolean;
}

export type EvacuationTargets =
  | { kind: 'targets'; migrations: VmMigration[]; reservations: CapacityReservation[] }
  /** No room for `vmId` (nor, then, for the host): it waits until capacity frees up. */
  | { kind: 'waiting_capacity'; vmId: string; detail: string };

interface Room {
  host: TargetHost;
  /** Used now: load plus every reservation, old and new. */
  vms: number;
  vcpus: number;
  memoryMiB: number;
}

/**
 * A target for every VM of the source, or none at all (the host waits, `waiting_capacity`). Rules:
 * never the source itself nor a busy host; never more than a host's capacity, counting what runs
 * there and every reservation (those given and those made here); only the source's domain when
 * `sameDomain`. Among the hosts with room: those already on the target kernel first, then the one
 * left with the most room (VMs spread rather than piled), then by host id. The largest VMs are
 * placed first. Returns the new reservations; holding them atomically is the caller's.
 */
export function chooseEvacuationTargets(req: EvacuationRequest): EvacuationTargets {
  const rooms: Room[] = [];
  for (const host of req.hosts) {
    if (host.hostId === req.source.hostId || req.busy.has(host.hostId)) continue;
    if (req.sameDomain && host.domain !== req.source.domain) continue;
    rooms.push({ host, vms: host.load.vms, vcpus: host.load.vcpus, memoryMiB: host.load.memoryMiB });
  }
  const byId = new Map(rooms.map((r) => [r.host.hostId, r]));
  for (const r of req.reservations) {
    const room = byId.get(r.targetHostId);
    if (room) take(room, r);
  }

  const order = [...req.source.vms].sort((a, b) => b.memoryMiB - a.memoryMiB || b.vcpus - a.vcpus || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const migrations: VmMigration[] = [];
  const reservations: CapacityReservation[] = [];
  for (const vm of order) {
    let best: Room | undefined;
    let bestLeft = -1;
    for (const room of rooms) {
      const left = roomLeftAfter(room, vm);
      if (left < 0) continue;
      if (best === undefined || better(room, left, best, bestLeft)) {
        best = room;
        bestLeft = left;
      }
    }
    if (best === undefined) {
      const where = req.sameDomain ? ` in domain ${req.source.domain}` : '';
      return {
        kind: 'waiting_capacity',
        vmId: vm.id,
        detail: `no host${where} has room for ${vm.id} (${vm.vcpus} vCPUs, ${vm.memoryMiB} MiB) beside the other VMs of ${req.source.hostId}`,
      };
    }
    const reservation: CapacityReservation = {
      vmId: vm.id,
      sourceHostId: req.source.hostId,
      targetHostId: best.host.hostId,
      vcpus: vm.vcpus,
      memoryMiB: vm.memoryMiB,
    };
    take(best, reservation);
    reservations.push(reservation);
    migrations.push({ vmId: vm.id, targetHostId: best.host.hostId });
  }
  // Migrations in the source's own VM order, whatever order they were placed in.
  const rank = new Map(req.source.vms.map((vm, i) => [vm.id, i]));
  migrations.sort((a, b) => rank.get(a.vmId)! - rank.get(b.vmId)!);
  return { kind: 'targets', migrations, reservations };
}

/** Whether a host's load and reservations fit its capacity (what chooseEvacuationTargets never breaks). */
export function withinCapacity(capacity: HostCapacity, used: { vms: number } & VmSize): boolean {
  return 'slots' in capacity ? used.vms <= capacity.slots : used.vcpus <= capacity.vcpus && used.memoryMiB <= capacity.memoryMiB;
}

function take(room: Room, size: VmSize): void {
  room.vms += 1;
  room.vcpus += size.vcpus;
  room.memoryMiB += size.memoryMiB;
}

/** The share of the host's capacity left once `vm` is placed there (its scarcest dimension); negative when it does not fit. */
function roomLeftAfter(room: Room, vm: VmSize): number {
  const c = room.host.capacity;
  if ('slots' in c) return c.slots === 0 ? -1 : (c.slots - room.vms - 1) / c.slots;
  if (c.vcpus <= 0 || c.memoryMiB <= 0) return -1;
  const vcpus = c.vcpus - room.vcpus - vm.vcpus;
  const memory = c.memoryMiB - room.memoryMiB - vm.memoryMiB;
  if (vcpus < 0 || memory < 0) return -1;
  return Math.min(vcpus / c.vcpus, memory / c.memoryMiB);
}

function better(room: Room, left: number, best: Room, bestLeft: number): boolean {
  if (room.host.onTargetKernel !== best.host.onTargetKernel) return room.host.onTargetKernel;
  if (left !== bestLeft) return left > bestLeft;
  return room.host.hostId < best.host.hostId;
}
