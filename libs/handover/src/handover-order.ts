import type { HandoverPlan } from './handover-plan';

/** How a worker reaches the host: the built-in simulated host, or the luo-fleet agent on it. */
export type HostDriverSpec = { kind: 'simulated' } | { kind: 'agent'; url: string };

/** What a worker needs to hand one host over: the host's plan and how to reach the host. */
export interface HandoverOrder {
  plan: HandoverPlan;
  driver: HostDriverSpec;
}
