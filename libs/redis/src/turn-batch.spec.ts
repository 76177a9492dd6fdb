import { describe, expect, it } from 'vitest';
import { TurnBatch } from './turn-batch';

describe('TurnBatch', () => {
  it('runs the calls of one turn together, one run per group, and answers each caller in order', async () => {
    const runs: [string, number[]][] = [];
    const batch = new TurnBatch<number, number>(async (group, items) => {
      runs.push([group, items]);
      return items.map((n) => n * 10);
    });
    const answers = await Promise.all([batch.submit('a', 1), batch.submit('b', 2), batch.submit('a', 3)]);
    expect(answers).toEqual([10, 20, 30]);
    expect(runs).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    // A later turn is a new run.
    expect(await batch.submit('a', 4)).toBe(40);
    expect(runs).toHaveLength(3);
  });

  it('splits a turn with more calls than its limit', async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch<number, number>(async (_group, items) => {
      sizes.push(items.length);
      return items;
    }, 2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => batch.submit('g', n)))).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects only the call a run answers with an error, and every call of a run that fails', async () => {
    const batch = new TurnBatch<number, number>(async (group, items) => {
      if (group === 'down') throw new Error('connection lost');
      return items.map((n) => (n < 0 ? new Error(`bad ${n}`) : n));
    });
    const results = await Promise.allSettled([batch.submit('up', 1), batch.submit('up', -1), batch.submit('down', 2), batch.submit('down', 3)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'bad -1', 'connection lost', 'connection lost']);
  });
});
