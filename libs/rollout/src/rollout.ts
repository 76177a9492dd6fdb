import type { Strategy } from '@luo-fleet/handover';

/** A maintenance window: which hosts, to which kernel, under which rules and limits. */

/** A count, or a percentage of the rollout's selection (`"20%"`). */
export type Quantity = number | `${number}%`;

export interface RolloutSpec {
  /** Label selector, `k=v,k2=v2` (see the planner's selector syntax). */
  selector: string;
  targetKernel: string;
  profile: string;
  strictAcs: boolean;
  window: {
    /** Epoch ms; a rollout that starts in the future waits as a delayed job. */
    startAt: number;
    endAt: number;
    /** No host starts after this (<= endAt): hosts still waiting end `cancelled`. */
    cutoffAt: number;
  };
  maxConcurrent: Quantity;
  maxFailures: Quantity;
  /** Canary ramp: batch sizes; after the batches, the rest of the fleet is one batch. */
  canary: { batches: Quantity[]; requireApproval: boolean };
  /** At most `limit` hosts in flight per distinct value of label `key` (rack, zone, ...). */
  maxPerFailureDomain?: { key: string; limit: number };
  /**
   * The strategies a host may be updated by, in order of preference (design 4.6); each host gets
   * the first that applies. Default `["live-update"]`.
   */
  strategies?: Strategy[];
  /** VMs `live-update-restart` may stop and start again, over the whole rollout; a percentage of its VMs. Default: all. */
  maxVmRestarts?: Quantity;
  /** `evacuate`: targets only in the evacuated host's failure domain (`maxPerFailureDomain.key`, else `rack`). */
  evacuation?: { sameDomain: boolean };
  dryRun: boolean;
  /** Simulated fleets only: fleet-wide fault probabilities, for demos and chaos runs. */
  simulatedFaults?: Record<string, number>;
}

/** The label whose value is a host's failure domain: `maxPerFailureDomain.key`, else `rack`. */
export function failureDomainKey(spec: Pick<RolloutSpec, 'maxPerFailureDomain'>): string {
  return spec.maxPerFailureDomain?.key ?? 'rack';
}

export type RolloutStatus =
  | 'scheduled' // waiting for startAt
  | 'running'
  | 'paused' // operator paused: no new admissions
  | 'awaiting_approval' // a canary batch finished; the next waits for an operator
  | 'completed' // every host has an outcome
  | 'halted' // failure budget exceeded: no new admissions, in-flight finished
  | 'aborted' // operator aborted: hosts not started are cancelled
  | 'expired'; // cutoff passed with hosts never started (they are cancelled)

export const TERMINAL_ROLLOUT_STATUSES: RolloutStatus[] = ['completed', 'halted', 'aborted', 'expired'];

/** The stored rollout (Redis key `FleetKeys.rollout(id)`), limits resolved against the selection. */
export interface Rollout {
  id: string;
  createdAt: number;
  createdBy: string;
  spec: RolloutSpec;
  hostCount: number;
  limits: {
    maxConcurrent: number;
    maxFailures: number;
    /** Resolved canary batch sizes, then the remainder. */
    batches: number[];
  };
  status: RolloutStatus;
  statusReason?: string;
  /** Index into limits.batches of the batch being admitted. */
  batch: number;
  finishedAt?: number;
}

/**
 * Host states in a rollout, as kept in `FleetKeys.hostStates`: coordinator states, then phases, then
 * outcomes. `waiting_capacity`: an evacuation whose VMs have nowhere to go yet (design 4.6).
 */
export const WAITING_STATES = ['pending', 'queued', 'waiting_capacity'] as const;
