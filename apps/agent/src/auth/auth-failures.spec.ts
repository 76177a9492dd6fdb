import { describe, expect, it } from 'vitest';
import { AuthFailures } from './auth-failures';

describe('AuthFailures', () => {
  it('lets a burst of failures through, then asks the address to wait, one more per refill', () => {
    const failures = new AuthFailures(3, 1_000);
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(failures.retryAfterMs('10.0.0.1', t)).toBe(0);
      failures.record('10.0.0.1', t);
    }
    expect(failures.retryAfterMs('10.0.0.1', t)).toBe(1_000);
    expect(failures.retryAfterMs('10.0.0.2', t)).toBe(0);
    expect(failures.retryAfterMs('10.0.0.1', t + 400)).toBe(600);
    expect(failures.retryAfterMs('10.0.0.1', t + 1_000)).toBe(0);
    failures.record('10.0.0.1', t + 1_000);
    expect(failures.retryAfterMs('10.0.0.1', t + 1_000)).toBe(1_000);
  });

  it('forgets an address once its bucket is full again, and tracks a bounded number', () => {
    const failures = new AuthFailures(2, 1_000, 3);
    for (const a of ['a', 'b', 'c', 'd']) failures.record(a, 0);
    expect(failures.size).toBe(3);
    expect(failures.retryAfterMs('b', 5_000)).toBe(0);
    expect(failures.size).toBe(2);
  });
});
