import type { HandoverPlan } from '@luo-fleet/handover';

export const HANDOVER_QUEUE = 'handover';

/** How a worker reaches the host: the built-in simulated host, or the luo-fleet agent on it. */
export type HostDriverSpec = { kind: 'simulated' } | { kind: 'agent'; url: string };

/** Payload of a `handover` job; its job id is the handover id, so a host is enqueued once per rollout. */
export interface HandoverJobData {
  plan: HandoverPlan;
  driver: HostDriverSpec;
}

export type HandoverJobResult = {
  outcome: string;
  phase?: string;
  reasons: string[];
  error?: string;
};
