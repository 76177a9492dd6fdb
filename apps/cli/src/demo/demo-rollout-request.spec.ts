import { buildPreservationSet } from '@luo-fleet/preservation';
import { chooseStrategies, spreadAcrossDomains } from '@luo-fleet/rollout';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOSTS, DEFAULT_SEED } from './demo-options';
import { demoRolloutRequest } from './demo-rollout-request';
import { simulatedFleet } from './simulated-fleet';

describe("the demo's fleet and rollout", () => {
  it('give every strategy hosts, evacuations included, by the same choice the planner makes', () => {
    const hosts = spreadAcrossDomains([...simulatedFleet(DEFAULT_HOSTS, DEFAULT_SEED)], (h) => h.labels.rack);
    const spec = demoRolloutRequest(DEFAULT_SEED);
    const plan = chooseStrategies(
      hosts.map((h) => ({ hostId: h.id, vms: h.vms, preservation: buildPreservationSet(h.topology, undefined, { vms: h.vms }) })),
      spec,
    );
    const hostsOf = (strategy: string) => plan.choices.filter((c) => c.strategy === strategy);
    for (const strategy of ['live-update', 'live-update-restart', 'evacuate', 'skip']) expect(hostsOf(strategy).length, strategy).toBeGreaterThan(0);
    expect(hostsOf('evacuate').reduce((n, c) => n + c.migrateVms.length, 0)).toBeGreaterThan(100);
    // Skipped only past the restart bound, with VMs that cannot move: never for want of a strategy otherwise.
    for (const c of hostsOf('skip')) expect(c.reasons).toEqual(expect.arrayContaining(['RESTART_BUDGET', 'VM_NOT_MIGRATABLE']));
    expect(hostsOf('skip').length).toBeLessThan(DEFAULT_HOSTS / 20);
    expect(plan.restarts).toBeLessThanOrEqual(plan.restartBudget);
  });
});
