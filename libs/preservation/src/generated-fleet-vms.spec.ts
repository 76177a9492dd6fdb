import { generateFleet } from '@luo-fleet/topology';
import { describe, expect, it } from 'vitest';
import { buildPreservationSet } from './plan';
import { VM_REASONS, type VmReason } from './reason';

describe('VM verdicts over a generated fleet', () => {
  it('meet every VM reason, and hosts whose every VM rides the Live Update', () => {
    const reasons = new Map<VmReason, number>();
    let whole = 0;
    let withVms = 0;
    for (const host of generateFleet(1000, 20260401)) {
      const plain = buildPreservationSet(host.topology, undefined);
      const set = buildPreservationSet(host.topology, undefined, { vms: host.vms });
      // VMs hold vfio-pci devices only, so they add no device verdicts to the default request.
      expect(set.devices).toEqual(plain.devices);
      if (host.vms.length === 0) continue;
      withVms++;
      if (set.vms!.every((v) => v.preservable)) whole++;
      for (const v of set.vms!) for (const r of v.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    expect([...reasons.keys()].sort()).toEqual([...VM_REASONS].sort());
    expect(whole).toBeGreaterThan(withVms / 10);
    expect(whole).toBeLessThan(withVms);
  });
});
