/**
 * Every Redis key luo-fleet writes, in one place. Keys of one rollout share the hash tag `{r:<id>}`
 * so that the scripts that touch several of them at once run on Redis Cluster too; a host's lease,
 * which spans rollouts, has its own tag.
 */
export class FleetKeys {
  constructor(readonly prefix: string) {}

  private tagged(rolloutId: string): string {
    return `${this.prefix}:{r:${rolloutId}}`;
  }

  /** Per-rollout copy of a host's lease token: the journal script checks it before every append. */
  handoverLease(rolloutId: string, hostId: string): string {
    return `${this.tagged(rolloutId)}:lease:${hostId}`;
  }
  journal(rolloutId: string, hostId: string): string {
    return `${this.tagged(rolloutId)}:journal:${hostId}`;
  }
  /** Capped stream of every journal entry of the rollout: the timeline the API and tools read. */
  events(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:events`;
  }
  /** Fleet counters (see libs/telemetry fleet-stats). */
  stats(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:stats`;
  }
  /** hostId -> current state (a phase, or an outcome). */
  hostStates(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:hoststate`;
  }
  /** state -> number of hosts in it. */
  stateCounts(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:statecount`;
  }
  /** Prefix of the per-state host sets (`<prefix><state>`), for paging hosts by state. */
  hostStateSetPrefix(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:state:`;
  }
  /** Admission bookkeeping of a rollout (see rollout-scripts.ts). */
  admission(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:adm`;
  }
  /** Hosts not yet admitted, in admission order. */
  pending(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:pending`;
  }
  /** Admitted hosts without a recorded outcome, scored by admission time. */
  admitted(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:admitted`;
  }
  /** Hosts whose outcome the rollout has counted. */
  done(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:done`;
  }
  /** hostId -> failure-domain value. */
  hostDomains(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:hostdomain`;
  }
  /** failure-domain value -> hosts in flight. */
  domainInflight(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:domaininflight`;
  }
  /** hostId -> handover job payload, until the host has an outcome. */
  plans(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:plans`;
  }
  /** hostId -> final result JSON {outcome, phase, reasons, error}. */
  results(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:results`;
  }
  /** Idempotency-Key -> rollout id. */
  idempotency(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }
  /** The rollout record (JSON of libs/rollout `Rollout`). */
  rollout(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:rollout`;
  }
  /** Ids of rollouts not yet finished (metrics label `rollout` only for these). */
  activeRollouts(): string {
    return `${this.prefix}:rollouts:active`;
  }
  /** Every rollout id, scored by creation time. */
  rolloutList(): string {
    return `${this.prefix}:rollouts`;
  }
  /** Set of every rollout id that has stats (the metrics app sums over it). */
  rolloutIndex(): string {
    return `${this.prefix}:rollouts:with-stats`;
  }
  /** A host's lease across rollouts: at most one handover per host at any moment. */
  hostLease(hostId: string): string {
    return `${this.prefix}:host:{h:${hostId}}:lease`;
  }
  /** A simulated host's hash: its own record and its topology (the host's view, not the orchestrator's). */
  simulatedHost(hostId: string): string {
    return `${this.prefix}:sim:host:{${hostId}}`;
  }
  bullPrefix(): string {
    // BullMQ keys share `{...}` so a queue's Lua scripts work on Redis Cluster.
    return `{${this.prefix}}`;
  }
}
