/**
 * How many failed authentications a client address may have: `burst` at once, then one more every
 * `refillMs`. `maxClients` bounds the memory: the address idle longest is forgotten first.
 */
export interface FailedAuthLimits {
  burst: number;
  refillMs: number;
  maxClients: number;
}

/** 20 wrong tokens at once, then one every 3 s: a person who mistypes never notices; a guesser gets 20 a minute. */
export const FAILED_AUTH_LIMITS: FailedAuthLimits = { burst: 20, refillMs: 3_000, maxClients: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket of failed authentications per client address. While an address has none left,
 * its requests are refused (429) before their token is looked at, so guessing gains nothing.
 */
export class FailedAuthLimiter {
  private readonly clients = new Map<string, Bucket>();

  constructor(
    private readonly limits: FailedAuthLimits = FAILED_AUTH_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `client` may try again; 0 when it may now. */
  retryAfterMs(client: string): number {
    const bucket = this.refilled(client);
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) * this.limits.refillMs);
  }

  recordFailure(client: string): void {
    const bucket = this.refilled(client) ?? { tokens: this.limits.burst, at: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // Re-inserted, so the Map's order is least recently failed first.
    this.clients.delete(client);
    this.clients.set(client, bucket);
    if (this.clients.size > this.limits.maxClients) this.clients.delete(this.clients.keys().next().value as string);
  }

  private refilled(client: string): Bucket | undefined {
    const bucket = this.clients.get(client);
    if (bucket === undefined) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + (now - bucket.at) / this.limits.refillMs);
    bucket.at = now;
    if (bucket.tokens >= this.limits.burst) {
      this.clients.delete(client);
      return undefined;
    }
    return bucket;
  }
}
