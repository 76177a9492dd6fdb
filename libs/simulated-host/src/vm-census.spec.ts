import { describe, expect, it } from 'vitest';
import type { SimulatedHostState } from './simulated-host-state';
import { takeVmCensus } from './vm-census';

/** Only what the census reads of a record. */
function rec(over: Partial<SimulatedHostState> = {}): SimulatedHostState {
  return { vmsRunning: true, vmsLost: false, down: null, ...over } as SimulatedHostState;
}

const placements = (on: Record<string, string[]>) => ({
  hostOf: new Map(Object.entries(on).flatMap(([host, names]) => names.map((n) => [n, host] as [string, string]))),
  lists: new Map(Object.entries(on)),
});

describe('takeVmCensus', () => {
  const hosts = [
    { id: 'a', vms: ['a/vm-0', 'a/vm-1'] },
    { id: 'b', vms: ['b/vm-0'] },
  ];

  it('counts VMs running once, at home or migrated', () => {
    const census = takeVmCensus(hosts, placements({ a: ['a/vm-0'], b: ['a/vm-1', 'b/vm-0'] }), new Map([['a', rec()], ['b', rec()]]), 0);
    expect(census).toEqual({ vms: 3, running: 3, moved: 1, idle: [], misplaced: [] });
  });

  it('counts the VMs of a host never simulated as running at home', () => {
    const census = takeVmCensus(hosts, placements({ a: ['a/vm-0', 'a/vm-1'] }), new Map([['a', rec()]]), 0);
    expect(census.running).toBe(3);
  });

  it('finds a VM on no host, in two lists, or listed by a host that is not its own', () => {
    const twice = { hostOf: new Map([['a/vm-0', 'a'], ['a/vm-1', 'b'], ['b/vm-0', 'b']]), lists: new Map([['a', ['a/vm-0', 'a/vm-1']], ['b', ['a/vm-1']]]) };
    const census = takeVmCensus(hosts, twice, new Map([['a', rec()], ['b', rec()]]), 0);
    expect(census.misplaced).toEqual(['a/vm-1: runs on b, listed on a,b', 'b/vm-0: runs on b, listed on none']);
    const gone = takeVmCensus(hosts, placements({ a: ['a/vm-0'], b: ['b/vm-0'] }), new Map([['a', rec()], ['b', rec()]]), 0);
    expect(gone.misplaced).toEqual(['a/vm-1: on no host']);
    expect(gone.running).toBe(2);
  });

  it('finds VMs that do not run: lost or stopped at home, or on a host that is down', () => {
    const on = placements({ a: ['a/vm-0', 'a/vm-1'], b: ['b/vm-0'] });
    const stopped = takeVmCensus(hosts, on, new Map([['a', rec({ stoppedVms: ['vm-1'] })], ['b', rec({ vmsLost: true })]]), 0);
    expect(stopped.idle).toEqual([
      { name: 'a/vm-1', at: 'a', home: 'a' },
      { name: 'b/vm-0', at: 'b', home: 'b' },
    ]);
    const down = takeVmCensus(hosts, placements({ b: ['a/vm-0', 'a/vm-1', 'b/vm-0'] }), new Map([['a', rec()], ['b', rec({ down: 100 })]]), 50);
    expect(down.idle.map((v) => v.name)).toEqual(['a/vm-0', 'a/vm-1', 'b/vm-0']);
    expect(takeVmCensus(hosts, placements({ b: ['a/vm-0', 'a/vm-1', 'b/vm-0'] }), new Map([['a', rec()], ['b', rec({ down: 100 })]]), 150).running).toBe(3);
  });
});
