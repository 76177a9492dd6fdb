/**
 * Nonces of authenticated requests, remembered until their timestamp can no longer pass the
 * window check; a nonce seen again within that time is a replay. Only requests whose MAC verified
 * get here, so the memory is bounded by what the orchestrator itself sends.
 */
export class SeenNonces {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** Remembers the nonce; false if it was already there (a replay). */
  admit(nonce: string, timestamp: number, now: number = Date.now()): boolean {
    this.prune(now);
    if (this.expiries.has(nonce)) return false;
    // Past timestamp + window the request is refused as stale anyway, whatever the nonce.
    this.expiries.set(nonce, Math.max(timestamp, now) + this.windowMs);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  private prune(now: number): void {
    for (const [nonce, expiry] of this.expiries) {
      if (expiry <= now) this.expiries.delete(nonce);
    }
  }
}
