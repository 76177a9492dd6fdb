import type { HostTopology, Vm } from '@luo-fleet/topology';
import type { HostDriverSpec } from '@luo-fleet/handover';
import type { HostCapacity } from '@luo-fleet/rollout';
import type { HostFacts } from './host-facts';

/** Host ids are DNS-ish so they can appear in Redis keys, URLs and job ids unescaped. */
export const HOST_ID = /^[a-z0-9][a-z0-9.-]{0,62}$/;
export const LABEL_KEY = /^[a-z0-9](?:[a-z0-9_./-]*[a-z0-9])?$/;
/** Values exclude `,`, `=`, `!`, `(`, `)` and spaces so a label selector can never be ambiguous. */
export const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)?$/;
export const LABEL_MAX = 63;
/** Labels every host must carry: the failure domains a rollout spreads over. */
export const REQUIRED_LABELS = ['rack', 'zone'] as const;

/**
 * A host's value for a label key, or undefined when it has none. Keys come from users, so only own
 * properties count: `constructor` or `toString` must not find Object.prototype's.
 */
export function labelValue(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

export interface InventoryHostInput extends HostFacts {
  id: string;
  labels: Record<string, string>;
  driver: HostDriverSpec;
  /** Null when the host was registered before its topology was known (an agent reports it later). */
  topology: HostTopology | null;
  /** The host's VMs (design 4.5), already validated against its topology; absent or empty: none known. */
  vms?: Vm[];
  /** What it can run when VMs are evacuated to it (design 4.6); absent: it takes none. */
  capacity?: HostCapacity;
}

export interface InventoryHost extends InventoryHostInput {
  vms: Vm[];
  /** ISO time of the latest registration. */
  registeredAt: string;
}

/** A host as listed: everything but the topology, which can be large. */
export interface InventoryHostSummary {
  id: string;
  labels: Record<string, string>;
  driver: HostDriverSpec;
  registeredAt: string;
  /** Number of PCI devices in the stored topology, null when there is none. */
  devices: number | null;
  /** Number of VMs recorded for it. */
  vms: number;
}

export class HostNotFoundError extends Error {
  constructor(readonly hostId: string) {
    super(`host ${hostId} is not in the inventory`);
    this.name = 'HostNotFoundError';
  }
}
