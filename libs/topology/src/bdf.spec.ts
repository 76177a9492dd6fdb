import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BdfError, compareBdf, formatBdf, isBdf, parseBdf } from './bdf';

describe('parseBdf', () => {
  it('canonicalises full, short, upper-case and wide-domain addresses', () => {
    expect(parseBdf('0000:3B:00.0')).toBe('0000:3b:00.0');
    expect(parseBdf('3b:00.1')).toBe('0000:3b:00.1');
    expect(parseBdf('10000:00:01.0')).toBe('10000:00:01.0');
    expect(parseBdf(' 0000:00:1f.7 ')).toBe('0000:00:1f.7');
  });

  it.each([
    ['0000:00:20.0', 'device 20'],
    ['0000:00:00.8', 'function 8'],
    ['000:00:00.0', 'expected'],
    ['0000:100:00.0', 'expected'],
    ['0000-00-00.0', 'expected'],
    ['', 'expected'],
    ['100000000:00:00.0', 'domain'],
  ])('rejects %j naming the problem', (input, problem) => {
    expect(() => parseBdf(input)).toThrow(BdfError);
    expect(() => parseBdf(input)).toThrow(problem);
  });

  it('formats and parses back every valid address', () => {
    fc.assert(
      fc.property(
        fc.record({ domain: fc.integer({ min: 0, max: 0xfffff }), bus: fc.integer({ min: 0, max: 255 }), device: fc.integer({ min: 0, max: 31 }), fn: fc.integer({ min: 0, max: 7 }) }),
        (parts) => {
          const bdf = formatBdf(parts);
          expect(parseBdf(bdf.toUpperCase())).toBe(bdf);
          expect(isBdf(bdf)).toBe(true);
        },
      ),
    );
  });
});

describe('compareBdf', () => {
  it('orders numerically by domain, bus, device, function', () => {
    const sorted = ['10000:00:01.0', '0000:00:1f.0', '0000:3b:00.2', '0001:00:00.0', '0000:3b:00.1', '0000:00:02.0'].sort(compareBdf);
    expect(sorted).toEqual(['0000:00:02.0', '0000:00:1f.0', '0000:3b:00.1', '0000:3b:00.2', '0001:00:00.0', '10000:00:01.0']);
  });
});
