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
    return `${this.handoverLeasePrefix(rolloutId)}${hostId}`;
  }
  /** `handoverLease` without the host id: scripts of many hosts name each copy by its id after it. */
  handoverLeasePrefix(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:lease:`;
  }
  journal(rolloutId: string, hostId: string): string {
    return `${this.journalPrefix(rolloutId)}${hostId}`;
  }
  /** `journal` without the host id: scripts of many hosts name each journal by its id after it. */
  journalPrefix(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:journal:`;
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
  /** The hosts in one state, for paging hosts by state. */
  hostStateSet(rolloutId: string, state: string): string {
    return `${this.hostStateSetPrefix(rolloutId)}${state}`;
  }
  /** `hostStateSet` without the state: scripts name each set by its state after it. */
  hostStateSetPrefix(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:state:`;
  }
  /** hostId -> the strategy the plan gave it (`skip` included); written at creation of a rollout that allows strategies. */
  hostStrategies(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:hoststrategy`;
  }
  /** `<strategy>:<state>` -> number of hosts of that strategy in that state, moved with the host's state. */
  strategyStateCounts(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:strategystatecount`;
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
  /** hostId -> the failure domain and VMs of a host the rollout evacuates (JSON, EvacuationCapacity). */
  capacity(rolloutId: string): string {
    return `${this.tagged(rolloutId)}:capacity`;
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
  /**
   * The inventory: every registered host's id, in a sorted set at score 0 (ordered by id, for
   * cursors). The inventory's keys share the tag `{inventory}`, so its scripts run on Redis Cluster.
   */
  inventoryIds(): string {
    return `${this.prefix}:{inventory}:ids`;
  }
  /** A registered host's hash: labels, driver, registeredAt, devices, topology (JSON). */
  inventoryHost(hostId: string): string {
    return `${this.prefix}:{inventory}:host:${hostId}`;
  }
  /** The ids of the hosts carrying label `key=value`, a sorted set at score 0. */
  inventoryLabel(key: string, value: string): string {
    return `${this.prefix}:{inventory}:label:${key}=${value}`;
  }
  /**
   * Hosts that may take evacuated VMs (a capacity in the inventory), scored by the share of it left
   * (FleetCapacity): where an evacuation looks first, without reading the whole inventory. An index,
   * refreshed after every change; a reservation checks the hosts themselves.
   */
  evacuationRoom(): string {
    return `${this.prefix}:{inventory}:evac:room`;
  }
  /** hostId -> the room evacuations hold on it until their migrations end (JSON vms, vcpus, memoryMiB). */
  evacuationReserved(): string {
    return `${this.prefix}:{inventory}:evac:reserved`;
  }
  /** `<rollout id>/<source host>` -> the migrations reserved for that evacuation, with each VM's size (JSON). */
  evacuationMigrations(): string {
    return `${this.prefix}:{inventory}:evac:migrations`;
  }
  /** The active rollouts a host is in flight in or about to be (a set of rollout ids): it takes no evacuated VM. */
  evacuationClaims(hostId: string): string {
    return `${this.prefix}:{inventory}:evac:claims:${hostId}`;
  }
  /**
   * A simulated host's hash: its own record and its topology (the host's view, not the
   * orchestrator's). Each host has its own hash tag.
   */
  simulatedHost(hostId: string): string {
    return `${this.simulatedHostHead()}${hostId}}`;
  }
  /** The host id a `simulatedHost` key names; null for any other key. */
  simulatedHostIdOf(key: string): string | null {
    const head = this.simulatedHostHead();
    return key.startsWith(head) && key.endsWith('}') ? key.slice(head.length, -1) : null;
  }
  /** A SCAN MATCH pattern for every `simulatedHost` key (and maybe a few others: check with `simulatedHostIdOf`). */
  simulatedHostPattern(): string {
    return `${this.simulatedHostHead().replace(/[*?[\]\\]/g, '\\$&')}*}`;
  }
  private simulatedHostHead(): string {
    return `${this.prefix}:sim:host:{`;
  }
  /**
   * Where each simulated VM runs: VM -> host id. VMs are named `<host it was registered on>/<vm id>`
   * (VM ids are unique per host only). Every VM key shares the tag `{vms}`, so one script moves a
   * VM between two hosts atomically, on Redis Cluster too.
   */
  simulatedVmHosts(): string {
    return `${this.prefix}:sim:{vms}:at`;
  }
  /** The VMs a simulated host runs, by the names of `simulatedVmHosts`. */
  simulatedVmsOn(hostId: string): string {
    return `${this.prefix}:sim:{vms}:on:${hostId}`;
  }
  bullPrefix(): string {
    // BullMQ keys share `{...}` so a queue's Lua scripts work on Redis Cluster.
    return `{${this.prefix}}`;
  }
}
