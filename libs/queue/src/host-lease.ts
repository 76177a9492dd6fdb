import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-connection';
import type { FleetKeys } from './keys';
import { LuaScript } from '@luo-fleet/handover';

/**
 * At most one handover per host at any moment, across all workers and rollouts: a lease with an
 * owner token and an expiry, renewed while the handover runs. Why our own lease and not only BullMQ's
 * job lock: BullMQ's lock guards one job, but two jobs (two rollouts, or a re-enqueue) can name the
 * same host, and a stalled worker keeps running after BullMQ hands its job to another. The token is
 * also copied to a per-rollout key that the journal script checks on every append, so a worker that
 * lost its lease cannot write another step (fencing).
 */
export class HostLease {
  readonly token = randomUUID();
  private lost = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    readonly hostId: string,
    readonly rolloutId: string,
    readonly ttlMs: number,
  ) {}

  /**
   * True when taken; false when another handover holds the host. `copy: false` leaves the
   * rollout's copy to the journal, which installs it with its first read (one round trip less).
   */
  async acquire({ copy = true }: { copy?: boolean } = {}): Promise<boolean> {
    const got = await this.redis.set(this.keys.hostLease(this.hostId), this.token, 'PX', this.ttlMs, 'NX');
    if (got !== 'OK') return false;
    if (copy) await this.redis.set(this.keys.handoverLease(this.rolloutId, this.hostId), this.token, 'PX', this.ttlMs);
    return true;
  }

  /**
   * Extends both keys if still ours; marks the lease lost otherwise. A missing copy is not a loss:
   * the journal may not have installed it yet (`copy: false`), or has dropped it with the outcome;
   * and if it expired, the journal refuses the next append anyway (the copy is what fences it).
   */
  async renew(): Promise<boolean> {
    const [ours, copy] = await Promise.all([
      RENEW.run(this.redis, [this.keys.hostLease(this.hostId)], [this.token, this.ttlMs]),
      RENEW.run(this.redis, [this.keys.handoverLease(this.rolloutId, this.hostId)], [this.token, this.ttlMs]),
    ]);
    if (ours !== 1 || copy === 0) this.lost = true;
    return !this.lost;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /**
   * The rollout's copy goes first, so the journal refuses a late append before the host is free.
   * `journalCopyDropped`: the journal's outcome script removed the copy already.
   */
  async release(opts: { journalCopyDropped?: boolean } = {}): Promise<void> {
    // Sent back to back (two slots in a cluster, so two scripts); Redis runs them in order.
    await Promise.all([
      opts.journalCopyDropped ? undefined : RELEASE.run(this.redis, [this.keys.handoverLease(this.rolloutId, this.hostId)], [this.token]),
      RELEASE.run(this.redis, [this.keys.hostLease(this.hostId)], [this.token]),
    ]);
  }
}

/** 1: extended; 0: held by another token; 2: no such key. */
const RENEW = new LuaScript(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not holder then return 2 end
return 0`);

const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);
