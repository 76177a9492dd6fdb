/**
 * Failed authentications per client address, as a token bucket: `burst` failures at once, then one
 * more each `refillMs`. An address whose bucket is empty is answered 429 before anything else is
 * looked at, so guessing at signatures costs the agent next to nothing. Addresses whose bucket is
 * full again are forgotten, and at most `maxAddresses` are tracked (the oldest entry goes first).
 */
export class AuthFailures {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds until this address may try again; 0 if it may now. */
  retryAfterMs(address: string, now: number = Date.now()): number {
    const bucket = this.current(address, now);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) * this.refillMs);
  }

  record(address: string, now: number = Date.now()): void {
    const bucket = this.current(address, now) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value as string);
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(address: string, now: number): { tokens: number; at: number } | undefined {
    const bucket = this.buckets.get(address);
    if (!bucket) return undefined;
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.refillMs);
    bucket.at = now;
    if (bucket.tokens >= this.burst) {
      this.buckets.delete(address);
      return undefined;
    }
    return bucket;
  }
}
