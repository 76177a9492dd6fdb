import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  drawFaultPlan,
  FaultProfileError,
  faultLabel,
  FLEET_FAULT_KINDS,
  NO_FAULTS,
  parseFaultPlan,
  parseFleetFaultProfile,
  type FaultPlan,
  type FleetFaultProfile,
} from './fault-plan';
import { applyHotplug, HotplugError } from './hotplug';
import { device, GPU_A, GPU_B, NIC_PF, topologyOf, twoGpuHost } from './test-topology.fixture';

const PRESERVABLE = [GPU_A, GPU_B];

function kindOf(plan: FaultPlan): string {
  const vmStepKinds: Record<string, string> = { drain: 'pFailDrain', stop_vms: 'pFailStopVms', start_vms: 'pFailStartVms' };
  if (plan.failStep && vmStepKinds[plan.failStep]) return vmStepKinds[plan.failStep];
  if (plan.failStep) return ['kexec_load', 'preserve', 'freeze'].includes(plan.failStep) ? 'pFailPreKexec' : 'pFailPostKexec';
  if (plan.hangStep) return 'pHang';
  if (plan.rebootReturnsError) return 'pRebootError';
  if (plan.neverReturns) return 'pNeverReturns';
  if (plan.panicFallback) return 'pPanicFallback';
  if (plan.hotplugIntoGroupOf) return 'pHotplug';
  if (plan.retrieveFails) return 'pRetrieveFails';
  return 'none';
}

describe('drawFaultPlan', () => {
  it('gives no fault without a profile', () => {
    for (let i = 0; i < 200; i++) expect(drawFaultPlan(NO_FAULTS, 1, `hv-${i}`, twoGpuHost(), PRESERVABLE)).toEqual({});
  });

  it('is the same for the same seed and host, and differs across seeds', () => {
    const profile: FleetFaultProfile = { ...NO_FAULTS, pFailPreKexec: 0.3, pHotplug: 0.3, pHang: 0.3 };
    const draw = (seed: number) => Array.from({ length: 200 }, (_, i) => drawFaultPlan(profile, seed, `hv-${i}`, twoGpuHost(), PRESERVABLE));
    expect(draw(5)).toEqual(draw(5));
    expect(draw(6)).not.toEqual(draw(5));
  });

  it('gives each fault to about its share of the fleet, at most one per host', () => {
    const profile: FleetFaultProfile = {
      pFailPreKexec: 0.1,
      pFailPostKexec: 0.05,
      pRebootError: 0.05,
      pNeverReturns: 0.05,
      pPanicFallback: 0.05,
      pHotplug: 0.1,
      pRetrieveFails: 0.05,
      pHang: 0.02,
      pFailDrain: 0.01,
      pFailStopVms: 0.01,
      pFailStartVms: 0.01,
    };
    const n = 10_000;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const plan = drawFaultPlan(profile, 42, `hv-${i}`, twoGpuHost(), PRESERVABLE);
      expect(faultLabel(plan).split(',')).toHaveLength(1);
      counts[kindOf(plan)] = (counts[kindOf(plan)] ?? 0) + 1;
    }
    for (const kind of FLEET_FAULT_KINDS) expect(Math.abs(counts[kind] / n - profile[kind])).toBeLessThan(0.012);
    expect(Math.abs(counts.none / n - 0.5)).toBeLessThan(0.02);
  });

  it('hot-plugs only next to a preservable device that has a group', () => {
    const always = { ...NO_FAULTS, pHotplug: 1 };
    fc.assert(
      fc.property(fc.string(), (hostId) => {
        const plan = drawFaultPlan(always, 3, hostId, twoGpuHost(), PRESERVABLE);
        expect(PRESERVABLE).toContain(plan.hotplugIntoGroupOf);
      }),
    );
    const noGroup = topologyOf([device(GPU_A, null)]);
    expect(drawFaultPlan(always, 3, 'hv-1', noGroup, [GPU_A])).toEqual({});
    expect(drawFaultPlan(always, 3, 'hv-1', twoGpuHost(), [])).toEqual({});
  });
});

describe('parseFleetFaultProfile', () => {
  it('fills missing kinds with 0', () => {
    expect(parseFleetFaultProfile({ pHang: 0.2 })).toEqual({ ...NO_FAULTS, pHang: 0.2 });
    expect(parseFleetFaultProfile(undefined)).toEqual(NO_FAULTS);
  });

  it('names the field that is wrong', () => {
    expect(() => parseFleetFaultProfile({ pHang: 1.5 })).toThrow(/^simulatedFaults\.pHang: must be at most 1/);
    expect(() => parseFleetFaultProfile({ pHang: -0.1 })).toThrow(/^simulatedFaults\.pHang: /);
    expect(() => parseFleetFaultProfile({ pExplode: 0.1 })).toThrow(/^simulatedFaults\.pExplode: /);
    expect(() => parseFleetFaultProfile({ pHang: '0.1' })).toThrow(FaultProfileError);
    expect(() => parseFleetFaultProfile({ pHang: 0.6, pRebootError: 0.6 })).toThrow(/add up to more than 1/);
  });
});

describe('parseFaultPlan', () => {
  it('accepts a plan and rejects an unknown step', () => {
    expect(parseFaultPlan({ failStep: 'preserve', panicFallback: true })).toEqual({ failStep: 'preserve', panicFallback: true });
    expect(() => parseFaultPlan({ failStep: 'kexec' })).toThrow(/^faults\.failStep: /);
    expect(() => parseFaultPlan({ hotplugIntoGroupOf: '3b:00.0' })).toThrow(/^faults\.hotplugIntoGroupOf: /);
  });
});

describe('applyHotplug', () => {
  it('adds an unbound device to exactly that group, keeping the topology sorted', () => {
    const { topology, added } = applyHotplug(twoGpuHost(), GPU_B);
    expect(added).toBe('0000:5e:00.1');
    expect(topology.iommuGroups['11']).toEqual([GPU_B, added]);
    expect(topology.iommuGroups['10']).toEqual([GPU_A]);
    const bdfs = topology.devices.map((d) => d.bdf);
    expect(bdfs).toEqual([...bdfs].sort());
    expect(topology.devices).toHaveLength(twoGpuHost().devices.length + 1);
  });

  it('skips functions that are taken', () => {
    const full = topologyOf(Array.from({ length: 8 }, (_, fn) => device(`0000:3b:00.${fn}`, fn === 0 ? 10 : 20 + fn)));
    expect(applyHotplug(full, GPU_A).added).toBe('0000:3b:01.0');
  });

  it('refuses a device that is missing or has no group', () => {
    expect(() => applyHotplug(twoGpuHost(), '0000:99:00.0')).toThrow(HotplugError);
    expect(() => applyHotplug(topologyOf([device(NIC_PF, null)]), NIC_PF)).toThrow(/no IOMMU group/);
  });
});
