import type { RedisClient } from '@luo-fleet/redis';
import { JournalFencedError, type HandoverJournal, type JournalEntry, type OutcomeEntry } from '@luo-fleet/handover';
import {
  blackoutStat,
  outcomeStat,
  phaseDurationStat,
  validationStat,
  vmDisruptionStat,
  type StatIncrement,
} from '@luo-fleet/telemetry';
import type { FleetKeys } from '@luo-fleet/redis';
import { runJournalWrites, type JournalWrite } from './journal-writes';
import { runJournalFirstReads } from './journal-first-reads';
import { outcomeResultJson, recordOutcome } from '../rollout/outcome-record';
import type { JournalGroupCommit } from './journal-group-commit';

export interface RedisJournalOptions {
  /** Lease token that must still own the host for an append to land; omit only in tools that read. */
  leaseToken?: string;
  /**
   * `load` also installs the lease's copy (HostLease's per-rollout key) with this expiry, in the
   * same script as the read: the host's lease is taken (`HostLease.acquire`), its copy not yet.
   */
  installLeaseCopyMs?: number;
  /**
   * The journal's outcome is counted in its rollout (RECORD_OUTCOME's bookkeeping: done set,
   * in-flight slot, failure budget), once: an outcome appended here by the same script that
   * appends it, so the rollout never lags its journals; an outcome `load` finds (an earlier run
   * wrote it) by RECORD_OUTCOME as it is read. `outcomeCount` tells how it went.
   */
  countOutcomes?: boolean;
  /**
   * The journal is known to be empty (a host that never started): its first write is then as safe
   * to resend as one made after `load`.
   */
  empty?: boolean;
  /** Sends this journal's writes, and its first read, together with other hosts' of the same turn; alone when omitted. */
  groupCommit?: JournalGroupCommit;
}

/** What appending an outcome did to the rollout's counts (RECORD_OUTCOME's 1, 0 and -1). */
export type OutcomeCount = 'first' | 'again' | 'no-rollout';
const OUTCOME_COUNTS: Record<number, OutcomeCount> = { 1: 'first', 0: 'again', [-1]: 'no-rollout' };


/**
 * The handover journal in Redis (callers add the rollout to `FleetKeys.rolloutIndex()` once, outside
 * the script, since that key lives in another cluster slot). One script appends the entries,
 * updates the host's state and the fleet counters, and adds the events to the rollout's stream,
 * atomically and only while the lease is ours: the count of a fact exists exactly when the fact
 * does. Once the outcome is written the lease's copy is dropped with it: nothing may be appended
 * after an outcome.
 */
export class RedisHandoverJournal implements HandoverJournal {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: FleetKeys,
    private readonly rolloutId: string,
    private readonly hostId: string,
    private readonly options: RedisJournalOptions = {},
  ) {
    if (options.empty) this.length = 0;
  }

  /** With `countOutcomes`, set once the journal's outcome was counted (written or found). */
  outcomeCount?: OutcomeCount;
  /** Set when this journal wrote an outcome under the lease: the script dropped the lease's copy with it. */
  leaseCopyDropped = false;

  /** Writes (list elements) in Redis as far as this object knows (after `load`): what the next write expects to find. */
  private length?: number;

  async load(_handoverId: string): Promise<JournalEntry[]> {
    const { leaseToken, installLeaseCopyMs, groupCommit } = this.options;
    let raw: string[];
    if (!leaseToken || installLeaseCopyMs === undefined) raw = await this.redis.lrange(this.keys.journal(this.rolloutId, this.hostId), 0, -1);
    else {
      const read = { hostId: this.hostId, leaseToken, leaseTtlMs: installLeaseCopyMs };
      raw = groupCommit ? await groupCommit.firstRead(this.rolloutId, read) : (await runJournalFirstReads(this.redis, this.keys, this.rolloutId, [read]))[0];
    }
    this.length = raw.length;
    const entries = journalEntriesOf(raw);
    if (this.options.countOutcomes) {
      const outcome = entries.findLast((e): e is OutcomeEntry => e.type === 'outcome');
      if (outcome) this.outcomeCount = OUTCOME_COUNTS[await recordOutcome(this.redis, this.keys, this.rolloutId, this.hostId, outcome)];
    }
    return entries;
  }

  /**
   * All entries in one write: one lease check, and they land together or not at all. After `load`,
   * a write also names the journal's length it expects: ioredis sends a command again when the
   * connection dropped before its answer came (Redis restarting), and the script recognises a write
   * that already landed instead of appending it twice.
   */
  async appendMany(handoverId: string, entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let newState = '';
    const counters: StatIncrement[] = [];
    for (const e of entries) {
      newState = stateAfter(e) || newState;
      counters.push(...statIncrementsFor(e));
    }
    const outcome = entries.find((e): e is OutcomeEntry => e.type === 'outcome');
    const write: JournalWrite = {
      hostId: this.hostId,
      handoverId,
      leaseToken: this.options.leaseToken ?? '',
      expectedLength: this.length ?? -1,
      entries: entries.map((e) => JSON.stringify(e)).join('\n'),
      counters,
      newState,
      outcome: outcome?.outcome ?? '',
      resultJson: outcome && this.options.countOutcomes ? outcomeResultJson(outcome) : '',
    };
    const { groupCommit } = this.options;
    const result = groupCommit ? await groupCommit.submit(this.rolloutId, write) : (await runJournalWrites(this.redis, this.keys, this.rolloutId, [write]))[0];
    if (!result.written) {
      throw new JournalFencedError(
        result.why === 'fenced'
          ? `lease on host ${this.hostId} lost: another worker owns its handover now`
          : `journal of host ${this.hostId} changed under this worker (expected ${this.length} writes)`,
      );
    }
    if (this.length !== undefined) this.length += 1;
    if (outcome && write.leaseToken !== '') this.leaseCopyDropped = true;
    if (outcome && this.options.countOutcomes) this.outcomeCount = OUTCOME_COUNTS[result.count];
  }

  append(handoverId: string, entry: JournalEntry): Promise<void> {
    return this.appendMany(handoverId, [entry]);
  }
}

/**
 * The entries of a journal list as read from Redis: each element is one write, its entries one
 * JSON per line (an element of one entry is one line).
 */
export function journalEntriesOf(elements: readonly string[]): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const element of elements) {
    for (const line of element.split('\n')) entries.push(JSON.parse(line) as JournalEntry);
  }
  return entries;
}

/** The last entry of a journal list element (a write), as text: a host's latest fact. */
export function lastEntryOf(element: string): string {
  return element.slice(element.lastIndexOf('\n') + 1);
}

/** What a journal entry adds to the fleet counters. */
export function statIncrementsFor(entry: JournalEntry): StatIncrement[] {
  switch (entry.type) {
    case 'step_end':
      return phaseDurationStat(entry.step, entry.durationMs / 1000);
    case 'validation':
      return entry.counts.flatMap((c) => validationStat(entry.stage, c.result, c.reason, c.count));
    case 'outcome':
      return [
        ...outcomeStat(entry.outcome, entry.strategy),
        ...(entry.blackoutMs === undefined ? [] : blackoutStat(entry.blackoutMs / 1000)),
        ...Object.entries(entry.vms ?? {}).flatMap(([kind, count]) => vmDisruptionStat(kind, count)),
      ];
    default:
      return [];
  }
}

/** The host's state for status pages: the step it is in, or its outcome; '' leaves it unchanged. */
function stateAfter(entry: JournalEntry): string {
  if (entry.type === 'step_start') return entry.step;
  if (entry.type === 'outcome') return entry.outcome;
  return '';
}
