import { LuaScript, type FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { LEASE_FUNCTIONS } from '../lease/lease-lua';
import type { StatIncrement } from '@luo-fleet/telemetry';
import { outcomeRecordKeys, RECORD_OUTCOME_FUNCTION } from '../rollout/outcome-record';
import { hostStrategyKeys, MOVE_HOST_STATES_FUNCTION } from '../rollout/host-state-move';

/**
 * A running rollout's event stream keeps about its last this many writes: its memory stays bounded
 * however long the rollout runs, while a large rollout's recent timeline stays readable.
 */
export const DEFAULT_EVENTS_MAXLEN = 100_000;

/**
 * One host's journal write as the APPEND script takes it. Packed into a few strings, since ioredis
 * and Redis both pay per argument. JSON never holds a raw newline, and counter names hold no tab or
 * newline.
 */
export interface JournalWrite {
  hostId: string;
  handoverId: string;
  /** '' writes without a lease check (tools, and outcomes of hosts that never started). */
  leaseToken: string;
  /** Writes the journal must hold before this one; -1 when unknown (no resend check). */
  expectedLength: number;
  /** The entries' JSON joined by newlines: one element of the journal list (see journalEntriesOf). */
  entries: string;
  /** What the entries add to the fleet counters. */
  counters: readonly StatIncrement[];
  /** The host's state after the write; '' leaves it. */
  newState: string;
  /** The outcome these entries hold ('' for none): the lease's copy goes with it. */
  outcome: string;
  /** The outcome's result JSON to count it in the rollout; '' not to count it. */
  resultJson: string;
}

/** 'fenced': the lease is not ours. 'moved': the journal does not hold the expected entries. */
export type JournalWriteResult = { written: true; count: number } | { written: false; why: 'fenced' | 'moved' };

/**
 * Writes of one rollout's journals in one script run: one round trip and one script call in Redis
 * however many hosts they are for, and the counters of all of them summed before they are added.
 * Each write lands or not on its own (its lease, its expected length), atomically with its counts.
 */
export async function runJournalWrites(
  redis: RedisClient,
  keys: FleetKeys,
  rolloutId: string,
  writes: readonly JournalWrite[],
  eventsMaxlen = DEFAULT_EVENTS_MAXLEN,
): Promise<JournalWriteResult[]> {
  const id = rolloutId;
  const scriptKeys = [keys.events(id), keys.stats(id), keys.hostStates(id), keys.stateCounts(id), ...outcomeRecordKeys(keys, id), ...hostStrategyKeys(keys, id)];
  // The counters of the whole run, summed here: the script adds them as they are when every write
  // lands (it nearly always does) and only otherwise reads each write's own.
  const sums = new Map<string, number>();
  const args: (string | number)[] = [eventsMaxlen, keys.hostStateSetPrefix(id), '', keys.handoverLeasePrefix(id), keys.journalPrefix(id)];
  for (const w of writes) {
    for (const [field, by] of w.counters) sums.set(field, (sums.get(field) ?? 0) + by);
    args.push(w.leaseToken, w.hostId, w.expectedLength, w.handoverId, w.entries, counterText(w.counters), w.newState, w.outcome, w.resultJson);
  }
  args[2] = counterText(sums);
  const flat = (await APPEND.run(redis, scriptKeys, args)) as number[];
  return writes.map((_, i) => {
    const status = flat[2 * i];
    if (status === 1) return { written: true, count: flat[2 * i + 1] };
    return { written: false, why: status === 0 ? 'fenced' : 'moved' };
  });
}

/** Counter increments as the script reads them: "field<TAB>by", one per line. */
function counterText(counters: Iterable<readonly [string, number]>): string {
  let text = '';
  for (const [field, by] of counters) text += `${text ? '\n' : ''}${field}\t${by}`;
  return text;
}

/*
KEYS: 1 events, 2 stats, 3 hoststate, 4 statecount, 5-11 outcomeRecordKeys, 12-13 hostStrategyKeys.
ARGV: 1 events maxlen, 2 state set prefix, 3 the run's counters summed ("field<TAB>by" per line),
  4 lease copy prefix, 5 journal prefix, then 9 per write: lease token ('' no check), host,
  expected length (-1 unknown), handover id, entries (a JSON per line), its own counters, new
  state ('' keeps it), outcome ('' none), result JSON ('' not counted).
Each write's lease copy and journal are its host id after prefixes 4 and 5, and the state sets
the state after prefix 2: keys of the rollout's hash tag, so of the slot of KEYS, as Redis Cluster
requires of a script's keys; two fewer arguments per write than naming them in KEYS.
Returns 2 numbers per write: 1 written, 0 lease not ours, -1 journal not of the expected length;
then RECORD_OUTCOME's count, -2 when not counted, and 0 for a write that had landed already.
A write is one element of the host's journal list (its entries, one JSON per line: one RPUSH
however many entries it holds) and one entry of the rollout's event stream: host, handover and the
entries as sent.
*/
const APPEND = new LuaScript(`${LEASE_FUNCTIONS}${RECORD_OUTCOME_FUNCTION}${MOVE_HOST_STATES_FUNCTION}
local maxlen = ARGV[1]
local statePrefix = ARGV[2]
local leasePrefix = ARGV[4]
local journalPrefix = ARGV[5]
local HEAD = 5
local PER_WRITE = 9
local outcomeKeys = {KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]}
-- Hosts whose state moves, in order, and the state each ends the run in.
local movedHosts = {}
local finalState = {}
-- Writes that landed now (not refused, not a resend of one that had landed).
local landed = {}

local function write(i)
  local a = HEAD + (i - 1) * PER_WRITE
  local token = ARGV[a + 1]
  local host = ARGV[a + 2]
  local lease = leasePrefix .. host
  local journal = journalPrefix .. host
  local expected = tonumber(ARGV[a + 3])
  local text = ARGV[a + 5]
  if expected >= 0 then
    -- Appended first, since RPUSH answers the length: a call less per write than asking for it
    -- first. A write that may not land is taken back in this same run, so nobody ever sees it.
    local len = redis.call('RPUSH', journal, text)
    if len ~= expected + 1 then
      redis.call('RPOP', journal)
      -- The same write sent again (its answer was lost): it landed, with its counts and events, once.
      if len == expected + 2 and redis.call('LINDEX', journal, -1) == text then return 1, 0 end
      return -1, -2
    end
    if token ~= '' and not holdsLease(lease, token) then
      redis.call('RPOP', journal)
      return 0, -2
    end
  else
    if token ~= '' and not holdsLease(lease, token) then return 0, -2 end
    redis.call('RPUSH', journal, text)
  end
  landed[#landed + 1] = i
  redis.call('XADD', KEYS[1], '*', 'host', host, 'handover', ARGV[a + 4], 'entries', text)
  local newState = ARGV[a + 7]
  if newState ~= '' then
    if finalState[host] == nil then movedHosts[#movedHosts + 1] = host end
    finalState[host] = newState
  end
  local counted = -2
  local outcome = ARGV[a + 8]
  if outcome ~= '' then
    if token ~= '' then dropLease(lease) end
    if ARGV[a + 9] ~= '' then counted = recordOutcome(outcomeKeys, host, outcome, ARGV[a + 9]) end
  end
  return 1, counted
end

local function addCounters(text, sums)
  for field, by in string.gmatch(text, '([^\\t\\n]+)\\t([^\\n]+)') do
    sums[field] = (sums[field] or 0) + tonumber(by)
  end
end

local out = {}
local writes = (#ARGV - HEAD) / PER_WRITE
for i = 1, writes do
  local status, counted = write(i)
  out[#out + 1] = status
  out[#out + 1] = counted
end
-- Counters are summed over the writes that landed: a counter most of them touch (a phase's
-- bucket) is one HINCRBY. When all landed that is the client's sum as sent.
local sums = {}
if #landed == writes then
  addCounters(ARGV[3], sums)
else
  for _, i in ipairs(landed) do addCounters(ARGV[HEAD + (i - 1) * PER_WRITE + 6], sums) end
end
for field, by in pairs(sums) do redis.call('HINCRBY', KEYS[2], field, by) end
-- The stream is trimmed once per run, not by each XADD: one trim per run keeps the same bound,
-- give or take one run's writes.
if #landed > 0 then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', maxlen) end
-- States move once per run, each host from its state before the run to its last one in it.
moveHostStates(KEYS[3], KEYS[4], statePrefix, movedHosts, finalState, {KEYS[12], KEYS[13]})
return out
`);
