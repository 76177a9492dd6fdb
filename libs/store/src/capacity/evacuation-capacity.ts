import type { FleetKeys, RedisClient } from '@luo-fleet/redis';
import type { EvacuatedVm } from '@luo-fleet/rollout';

/** A host a rollout evacuates, as recorded at creation: its failure domain and its VMs with their sizes. */
export interface CapacityRecord {
  domain: string;
  evacuees?: EvacuatedVm[];
}

/**
 * What a rollout's evacuations send away, recorded at its creation under the rollout's hash tag:
 * the VMs and failure domain of each host it evacuates. Where they go is FleetCapacity's.
 */
export class EvacuationCapacity {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  async record(rolloutId: string, hosts: ReadonlyMap<string, CapacityRecord>): Promise<void> {
    if (hosts.size === 0) return;
    await this.redis.hset(this.keys.capacity(rolloutId), Object.fromEntries([...hosts].map(([id, r]) => [id, JSON.stringify(r)])));
  }

  /** The failure domain and VMs of each host the plan evacuates. */
  async evacuees(rolloutId: string, hostIds: readonly string[]): Promise<Map<string, { domain: string; vms: EvacuatedVm[] }>> {
    const out = new Map<string, { domain: string; vms: EvacuatedVm[] }>();
    if (hostIds.length === 0) return out;
    const raw = await this.redis.hmget(this.keys.capacity(rolloutId), ...hostIds);
    hostIds.forEach((id, i) => {
      if (raw[i] === null) return;
      const r = JSON.parse(raw[i]!) as CapacityRecord;
      out.set(id, { domain: r.domain, vms: Array.isArray(r.evacuees) ? r.evacuees : [] });
    });
    return out;
  }
}
