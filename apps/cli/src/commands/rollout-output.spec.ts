import { describe, expect, it } from 'vitest';
import { disruptionLine, forecastLines, progressLine, strategyLines, type RolloutView } from './rollout-output';

const view = {
  status: 'running',
  hostCount: 10,
  inflight: 3,
  hostsByState: { updated: 5, drain: 1, waiting_capacity: 2, skipped: 2 },
  hostsByStrategy: {
    'live-update': { updated: 4 },
    evacuate: { updated: 1, drain: 1, waiting_capacity: 2 },
    skip: { skipped: 2 },
  },
  vmDisruptions: { preserved: 8, migrated: 4, restarted: 0, lost: 0 },
} as unknown as RolloutView;

describe('rollout output by strategy', () => {
  it('prints one line per strategy the plan gave hosts, in preference order', () => {
    expect(strategyLines(view)).toEqual(['live-update     4: updated 4', 'evacuate        4: updated 1, drain 1, waiting_capacity 2', 'skip            2: skipped 2']);
    expect(strategyLines({ hostsByStrategy: undefined })).toEqual([]);
  });

  it('adds them to the progress line, and counts VMs by kind', () => {
    expect(progressLine(view)).toBe(
      'running: updated 5, rolled_back 0, failed 0, skipped 2, cancelled 0, in flight 3 (of 10); live-update 4: updated 4; evacuate 4: updated 1, drain 1, waiting_capacity 2; skip 2: skipped 2',
    );
    expect(disruptionLine(view.vmDisruptions)).toBe('VMs so far: preserved 8, migrated 4, restarted 0, lost 0');
  });

  it("prints a plan's forecast: hosts per strategy, VMs by what is planned, and why strategies were passed over", () => {
    const lines = forecastLines({
      byStrategy: { 'live-update': { hosts: 2, vms: 4 }, evacuate: { hosts: 1, vms: 2 } },
      disruption: { preserved: 4, migrated: 2, restarted: 0 },
      passedOver: { 'live-update': { LUO_DISABLED: 1 }, 'live-update-restart': { LUO_DISABLED: 1 } },
      restarts: { planned: 0, budget: 6 },
    });
    expect(lines).toEqual([
      'strategies: live-update 2 hosts (4 VMs), evacuate 1 (2 VMs)',
      'VMs planned: preserved 4, migrated 2, restarted 0 (restart budget 6)',
      'passed over: live-update for LUO_DISABLED 1; live-update-restart for LUO_DISABLED 1',
    ]);
    expect(forecastLines(undefined)).toEqual([]);
  });
});
