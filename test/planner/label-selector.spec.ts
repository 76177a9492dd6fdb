import { formatSelector, matchesSelector, parseSelector, requiredPairs, SelectorError } from '@luo-fleet/store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('label selector', () => {
  it('parses every term form', () => {
    expect(parseSelector('rack=r1, zone==z2,kind!=gpu,zone in (a, b),rack notin (x),maint,!drain')).toEqual([
      { key: 'rack', op: 'in', values: ['r1'] },
      { key: 'zone', op: 'in', values: ['z2'] },
      { key: 'kind', op: 'notin', values: ['gpu'] },
      { key: 'zone', op: 'in', values: ['a', 'b'] },
      { key: 'rack', op: 'notin', values: ['x'] },
      { key: 'maint', op: 'exists' },
      { key: 'drain', op: 'absent' },
    ]);
    expect(parseSelector('  ')).toEqual([]);
  });

  it.each(['rack=r1,', ',rack=r1', 'rack=r 1', 'Rack=r1', 'rack in r1', 'rack in (a,,b)', 'rack in (a', 'rack in a)', 'rack=(a)', '=r1', 'rack=r1;zone=z1'])(
    'refuses %j with a SelectorError',
    (text) => {
      expect(() => parseSelector(text)).toThrow(SelectorError);
    },
  );

  it('matches like Kubernetes: negative terms match hosts lacking the key', () => {
    const labels = { rack: 'r1', zone: 'z1' };
    expect(matchesSelector(labels, parseSelector('rack=r1,zone in (z1,z2)'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('kind!=gpu'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('kind notin (gpu)'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('kind'))).toBe(false);
    expect(matchesSelector(labels, parseSelector('!kind,rack'))).toBe(true);
    expect(matchesSelector(labels, parseSelector('rack=r1,zone=z2'))).toBe(false);
    // Inherited properties are not labels.
    expect(matchesSelector({}, parseSelector('constructor'))).toBe(false);
  });

  it('names the index sets a match must be in', () => {
    expect(requiredPairs(parseSelector('rack=r1,zone in (a,b),kind in (gpu),x!=y'))).toEqual([
      ['rack', 'r1'],
      ['kind', 'gpu'],
    ]);
  });

  it('round-trips through formatSelector', () => {
    const key = fc.stringMatching(/^[a-z0-9](?:[a-z0-9_./-]{0,10}[a-z0-9])?$/);
    const value = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,10}[A-Za-z0-9])?$/);
    const term = fc.oneof(
      fc.record({ key, op: fc.constantFrom('in' as const, 'notin' as const), values: fc.array(value, { minLength: 1, maxLength: 3 }) }),
      fc.record({ key, op: fc.constantFrom('exists' as const, 'absent' as const) }),
    );
    fc.assert(
      fc.property(fc.array(term, { maxLength: 5 }), (terms) => {
        expect(parseSelector(formatSelector(terms))).toEqual(terms);
      }),
    );
  });
});
