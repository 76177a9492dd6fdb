import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { predictSchedule, resolveLimits, resolveQuantity, spreadAcrossDomains } from './index';

describe('resolveQuantity / resolveLimits', () => {
  it('turns percentages into counts of the eligible hosts, rounding up', () => {
    expect(resolveQuantity('20%', 7)).toBe(2);
    expect(resolveQuantity('10%', 500)).toBe(50);
    expect(resolveQuantity(3, 500)).toBe(3);
  });

  it('builds canary batches then the remainder', () => {
    const l = resolveLimits({ maxConcurrent: '10%', maxFailures: 5, canary: { batches: [1, 5, '20%'], requireApproval: false } }, 100);
    expect(l).toEqual({ maxConcurrent: 10, maxFailures: 5, batches: [1, 5, 20, 74] });
  });

  it('clips batches to a small fleet', () => {
    expect(resolveLimits({ maxConcurrent: 2, maxFailures: 0, canary: { batches: [1, 5], requireApproval: true } }, 3).batches).toEqual([1, 2]);
    expect(resolveLimits({ maxConcurrent: 2, maxFailures: 0, canary: { batches: [1], requireApproval: true } }, 0).batches).toEqual([]);
  });

  it('batches always add up to the eligible hosts', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.array(fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%` as const)), { maxLength: 5 }), (n, batches) => {
        const l = resolveLimits({ maxConcurrent: 1, maxFailures: 0, canary: { batches, requireApproval: false } }, n);
        expect(l.batches.reduce((a, b) => a + b, 0)).toBe(n);
        expect(l.batches.every((b) => b > 0)).toBe(true);
      }),
    );
  });
});

describe('spreadAcrossDomains', () => {
  it('interleaves racks so consecutive hosts are in different domains', () => {
    const hosts = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'];
    expect(spreadAcrossDomains(hosts, (h) => h[0])).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('is a permutation that keeps each domain in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('r1', 'r2', 'r3', 'r4'), fc.nat()), { maxLength: 200 }), (pairs) => {
        const hosts = pairs.map(([d, n], i) => ({ d, id: `${i}-${n}` }));
        const out = spreadAcrossDomains(hosts, (h) => h.d);
        expect([...out].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...hosts].sort((a, b) => a.id.localeCompare(b.id)));
        for (const d of ['r1', 'r2', 'r3', 'r4']) {
          expect(out.filter((h) => h.d === d)).toEqual(hosts.filter((h) => h.d === d));
        }
      }),
    );
  });
});

describe('predictSchedule', () => {
  it('runs batches in waves of maxConcurrent', () => {
    const s = predictSchedule({ maxConcurrent: 200, maxFailures: 10, batches: [2000] }, { handoverSeconds: 2, requireApproval: false, cutoffSeconds: 3600 });
    expect(s.makespanSeconds).toBe(20);
    expect(s.hostsPastCutoff).toBe(0);
  });

  it('counts hosts that would start after the cutoff', () => {
    const s = predictSchedule({ maxConcurrent: 10, maxFailures: 0, batches: [1, 99] }, { handoverSeconds: 60, requireApproval: true, cutoffSeconds: 300 });
    expect(s.batches.map((b) => b.waitsForApproval)).toEqual([false, true]);
    // batch 2 waves start at 60, 120, ..., 600: those after 300 s are 5 waves minus a 9-host last one.
    expect(s.hostsPastCutoff).toBe(49);
  });
});
