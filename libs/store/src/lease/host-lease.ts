import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@luo-fleet/redis';
import type { FleetKeys } from '@luo-fleet/redis';
import { LuaScript, scriptGroupOf, TurnBatch } from '@luo-fleet/redis';
import { LEASE_FUNCTIONS } from './lease-lua';

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
    /** Takes and gives back leases together with other handovers' of the same turn. */
    private readonly batch: HostLeaseBatch,
  ) {}

  /**
   * True when taken; false when another handover holds the host. The rollout's copy, which the
   * journal checks, is the journal's to install with its first read (`installLeaseCopyMs`).
   */
  async acquire(): Promise<boolean> {
    return this.batch.take(this.keys.hostLease(this.hostId), this.token, this.ttlMs);
  }

  /**
   * Extends both keys if still ours; marks the lease lost otherwise. A missing copy is not a loss:
   * the journal may not have installed it yet, or has dropped it with the outcome;
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
    // Given in this order, in one script run (two on a cluster: two slots), and Redis runs them so.
    await Promise.all([
      opts.journalCopyDropped ? undefined : this.batch.give(this.keys.handoverLease(this.rolloutId, this.hostId), this.token),
      this.batch.give(this.keys.hostLease(this.hostId), this.token),
    ]);
  }
}

/** KEYS: 1 a lease. ARGV: 1 token, 2 expiry ms. 1: extended; 0: held by another token; 2: no such key. */
const RENEW = new LuaScript(`${LEASE_FUNCTIONS}
return renewLease(KEYS[1], ARGV[1], ARGV[2])`);


/**
 * Host leases taken and given back in one script run per turn (TurnBatch): a worker starts and ends
 * many handovers in the same turn. On a cluster each lease key is its own run (its own slot).
 * A take sent twice (ioredis resending after a lost answer) finds its own token and still succeeds.
 */
export class HostLeaseBatch {
  private readonly ops: TurnBatch<{ key: string; kind: 'take' | 'give'; token: string; ttlMs: number }, number>;

  constructor(private readonly redis: RedisClient) {
    this.ops = new TurnBatch(async (_group, ops) => {
      const args = ops.flatMap((op) => [op.kind, op.token, op.ttlMs]);
      return (await LEASE_OPS.run(redis, ops.map((op) => op.key), args)) as number[];
    });
  }

  async take(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.ops.submit(this.groupOf(key), { key, kind: 'take', token, ttlMs })) === 1;
  }

  async give(key: string, token: string): Promise<void> {
    await this.ops.submit(this.groupOf(key), { key, kind: 'give', token, ttlMs: 0 });
  }

  private groupOf(key: string): string {
    return scriptGroupOf(this.redis, key);
  }
}

/** KEYS: a lease per operation. ARGV: 3 per operation: take or give, token, expiry ms. Returns 1 or 0 each. */
const LEASE_OPS = new LuaScript(`${LEASE_FUNCTIONS}
local out = {}
for i = 1, #KEYS do
  local a = (i - 1) * 3
  local token = ARGV[a + 2]
  if ARGV[a + 1] == 'take' then
    if takeLease(KEYS[i], token, ARGV[a + 3]) then out[i] = 1 else out[i] = 0 end
  else
    out[i] = giveLease(KEYS[i], token)
  end
end
return out`);
