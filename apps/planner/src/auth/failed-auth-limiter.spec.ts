import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter } from './failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('allows a burst per address, then one failure per refill interval', () => {
    let now = 1_000_000;
    const limiter = new FailedAuthLimiter({ burst: 3, refillMs: 1_000, maxClients: 10 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
      limiter.recordFailure('10.0.0.1');
    }
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(1_000);
    expect(limiter.retryAfterMs('10.0.0.2')).toBe(0);
    now += 400;
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(600);
    now += 600;
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(1_000);
  });

  it('forgets the address idle longest beyond maxClients, and a full bucket at once', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ burst: 1, refillMs: 1_000, maxClients: 2 }, () => now);
    for (const client of ['a', 'b', 'c']) limiter.recordFailure(client);
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.retryAfterMs('b')).toBe(1_000);
    expect(limiter.retryAfterMs('c')).toBe(1_000);
    now += 1_000;
    expect(limiter.retryAfterMs('b')).toBe(0);
  });
});
