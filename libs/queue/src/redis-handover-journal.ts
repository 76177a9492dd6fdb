import type { RedisClient } from './redis-connection';
import { JournalFencedError, type HandoverJournal, type JournalEntry, type OutcomeEntry } from '@luo-fleet/handover';
import {
  blackoutStat,
  outcomeStat,
  phaseDurationStat,
  validationStat,
  type StatIncrement,
} from '@luo-fleet/telemetry';
import type { FleetKeys } from './keys';
import { LuaScript } from '@luo-fleet/handover';
import { RECORD_OUTCOME_FUNCTION } from './rollout-scripts';

export interface RedisJournalOptions {
  /** Lease token that must still own the host for an append to land; omit only in tools that read. */
  leaseToken?: string;
  /**
   * `load` also installs the lease's copy (HostLease's per-rollout key) with this expiry, in the
   * same script as the read: the host's lease is taken, its copy not yet (`acquire({ copy: false })`).
   */
  installLeaseCopyMs?: number;
  /**
   * Approximate cap of the rollout's event stream, in stream entries (DEFAULT_EVENTS_MAXLEN): one
   * per write, which holds two or three journal entries.
   */
  eventsMaxLen?: number;
  /**
   * An outcome appended here is also counted in its rollout (RECORD_OUTCOME's bookkeeping: done
   * set, in-flight slot, failure budget) by the same script, so the rollout never lags its journals.
   */
  countOutcomes?: boolean;
  /**
   * The journal is known to be empty (a host that never started): its first write is then as safe
   * to resend as one made after `load`.
   */
  empty?: boolean;
}

/**
 * A running rollout's event stream keeps about its last 100,000 writes (some 250,000 journal
 * entries, ~30 MiB): a 100,000-host rollout then stays under 2 KiB of Redis per host.
 */
export const DEFAULT_EVENTS_MAXLEN = 100_000;

/** What appending an outcome did to the rollout's counts (RECORD_OUTCOME's 1, 0 and -1). */
export type OutcomeCount = 'first' | 'again' | 'no-rollout';
const OUTCOME_COUNTS: Record<number, OutcomeCount> = { 1: 'first', 0: 'again', [-1]: 'no-rollout' };

/** The outcome as a rollout's results hash keeps it. */
export function outcomeResultJson(outcome: Pick<OutcomeEntry, 'outcome' | 'phase' | 'reasons' | 'error'>): string {
  return JSON.stringify({ outcome: outcome.outcome, phase: outcome.phase, reasons: outcome.reasons, error: outcome.error });
}

/**
 * The handover journal in Redis (callers add the rollout to `FleetKeys.rolloutIndex()` once, outside
 * this script, since that key lives in another cluster slot). One script appends the entries,
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

  /** Set when this journal wrote an outcome with `countOutcomes`. */
  outcomeCount?: OutcomeCount;

  /** Entries in Redis as far as this object knows (after `load`): what the next write expects to find. */
  private length?: number;

  async load(_handoverId: string): Promise<JournalEntry[]> {
    const journal = this.keys.journal(this.rolloutId, this.hostId);
    const { leaseToken, installLeaseCopyMs } = this.options;
    const raw =
      leaseToken && installLeaseCopyMs !== undefined
        ? ((await INSTALL_COPY_AND_READ.run(this.redis, [this.keys.handoverLease(this.rolloutId, this.hostId), journal], [leaseToken, installLeaseCopyMs])) as string[])
        : await this.redis.lrange(journal, 0, -1);
    this.length = raw.length;
    return raw.map((r) => JSON.parse(r) as JournalEntry);
  }

  /**
   * All entries in one script run: one round trip, one lease check, and they land together or not
   * at all. After `load`, a write also names the journal's length it expects: ioredis sends a
   * command again when the connection dropped before its answer came (Redis restarting), and the
   * script recognises a write that already landed instead of appending it twice.
   */
  async appendMany(handoverId: string, entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const k = this.keys;
    // Packed into a few strings: ioredis and Redis both pay per argument, and a write with its
    // events and counters spelled out as separate arguments cost as much as the rest of the step.
    // JSON never holds a raw newline, and counter names hold no tab or newline.
    const texts = entries.map((e) => JSON.stringify(e));
    const counters = entries.flatMap(statIncrementsFor).map(([field, by]) => `${field}\t${by}`);
    let newState = '';
    for (const e of entries) newState = stateAfter(e) || newState;
    const args: (string | number)[] = [
      this.options.leaseToken ?? '',
      this.hostId,
      this.options.eventsMaxLen ?? DEFAULT_EVENTS_MAXLEN,
      k.hostStateSetPrefix(this.rolloutId),
      this.length ?? -1,
      handoverId,
      texts.join('\n'),
      counters.join('\n'),
      newState,
    ];
    const keys = [
      k.handoverLease(this.rolloutId, this.hostId),
      k.journal(this.rolloutId, this.hostId),
      k.events(this.rolloutId),
      k.stats(this.rolloutId),
      k.hostStates(this.rolloutId),
      k.stateCounts(this.rolloutId),
    ];
    const outcome = entries.find((e): e is OutcomeEntry => e.type === 'outcome');
    if (outcome) {
      if (this.options.countOutcomes) {
        const id = this.rolloutId;
        keys.push(k.admission(id), k.admitted(id), k.done(id), k.domainInflight(id), k.hostDomains(id), k.results(id), k.plans(id));
        args.push(outcome.outcome, outcomeResultJson(outcome));
      } else {
        args.push('', '');
      }
    }
    const result = (await APPEND.run(this.redis, keys, args)) as 0 | -1 | [1, number];
    if (result === 0) {
      throw new JournalFencedError(`lease on host ${this.hostId} lost: another worker owns its handover now`);
    }
    if (result === -1) {
      throw new JournalFencedError(`journal of host ${this.hostId} changed under this worker (expected ${this.length} entries)`);
    }
    if (this.length !== undefined) this.length += entries.length;
    if (outcome && this.options.countOutcomes) this.outcomeCount = OUTCOME_COUNTS[result[1]];
  }

  append(handoverId: string, entry: JournalEntry): Promise<void> {
    return this.appendMany(handoverId, [entry]);
  }
}

/** What a journal entry adds to the fleet counters. */
export function statIncrementsFor(entry: JournalEntry): StatIncrement[] {
  switch (entry.type) {
    case 'step_end':
      return phaseDurationStat(entry.step, entry.durationMs / 1000);
    case 'validation':
      return entry.counts.flatMap((c) => validationStat(entry.stage, c.result, c.reason, c.count));
    case 'outcome':
      return [...outcomeStat(entry.outcome), ...(entry.blackoutMs === undefined ? [] : blackoutStat(entry.blackoutMs / 1000))];
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

/** KEYS: 1 the lease's copy, 2 journal. ARGV: token, expiry ms. Returns the journal. */
const INSTALL_COPY_AND_READ = new LuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('LRANGE', KEYS[2], 0, -1)
`);

/*
KEYS: 1 lease, 2 journal, 3 events, 4 stats, 5 hoststate, 6 statecount (one slot: the rollout's tag)
ARGV: 1 token, 2 hostId, 3 events maxlen, 4 state set prefix, 5 expected length (-1: unknown),
  6 handover id, 7 the entries' JSON joined by newlines, 8 counter increments ("field<TAB>by"
  joined by newlines), 9 the host's new state ('' leaves it), and, when the entries hold an outcome:
  10 its name and 11 its result JSON ('' '' not to count it), with KEYS 7-13 as RECORD_OUTCOME's.
Returns 0 when the lease is not ours, -1 when the journal does not have the expected length, else
{1, count} (count: RECORD_OUTCOME's, -2 when not counted); {1, 0} for a write that had landed already.
(state sets are named from ARGV but carry the rollout's hash tag, so they share the slot)
The write is also one entry of the rollout's event stream: host, handover and the entries as
sent (one JSON per line), so every journal entry is an event without an XADD each.
*/
const APPEND = new LuaScript(`${RECORD_OUTCOME_FUNCTION}
local token = ARGV[1]
local expected = tonumber(ARGV[5])
local entries = {}
for entry in string.gmatch(ARGV[7], '[^\\n]+') do entries[#entries + 1] = entry end
local count = #entries
local len = -1
if expected >= 0 then
  len = redis.call('LLEN', KEYS[2])
  -- The same write sent again (its answer was lost): it landed, with its counts and events, once.
  if len == expected + count and redis.call('LINDEX', KEYS[2], -1) == entries[count] then return {1, 0} end
end
if token ~= '' and redis.call('GET', KEYS[1]) ~= token then
  return 0
end
if expected >= 0 and len ~= expected then return -1 end
local host = ARGV[2]
local maxlen = ARGV[3]
local statePrefix = ARGV[4]
for field, by in string.gmatch(ARGV[8], '([^\\t\\n]+)\\t([^\\n]+)') do
  redis.call('HINCRBY', KEYS[4], field, by)
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'host', host, 'handover', ARGV[6], 'entries', ARGV[7])
redis.call('RPUSH', KEYS[2], unpack(entries))
local newState = ARGV[9]
if newState ~= '' then
  local old = redis.call('HGET', KEYS[5], host)
  if old ~= newState then
    if old then
      redis.call('HINCRBY', KEYS[6], old, -1)
      redis.call('SREM', statePrefix .. old, host)
    end
    redis.call('HSET', KEYS[5], host, newState)
    redis.call('HINCRBY', KEYS[6], newState, 1)
    redis.call('SADD', statePrefix .. newState, host)
  end
end
local counted = -2
if ARGV[10] then
  if token ~= '' then redis.call('DEL', KEYS[1]) end
  if ARGV[10] ~= '' then
    counted = recordOutcome({KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]}, host, ARGV[10], ARGV[11])
  end
end
return {1, counted}
`);
