import { describe, expect, it } from 'vitest';
import { disruptionLine, progressLine, strategyLines, type RolloutView } from './rollout-output';

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
});
