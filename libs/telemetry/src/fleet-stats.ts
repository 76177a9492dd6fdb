import { BLACKOUT_BUCKETS_SECONDS, PHASE_BUCKETS_SECONDS } from './metric-names';

/**
 * Fleet-wide counters live in Redis hashes (one per rollout), incremented by workers in the same
 * atomic step that appends the journal entry they describe: so a count exists exactly when its fact
 * does, whatever worker wrote it, and the metrics app only has to read and add. Field names:
 *   h|<outcome>                         handovers by outcome
 *   v|<stage>|<result>|<reason>         device validations
 *   m|<stage>|<result>|<reason>         VM validations
 *   p|<phase>|<le or +Inf>  p|<phase>|sum  p|<phase>|count   phase durations (non-cumulative buckets)
 *   b|<le or +Inf>  b|sum  b|count      blackout
 */
export type StatIncrement = [field: string, by: number];

export function outcomeStat(outcome: string): StatIncrement[] {
  return [[`h|${outcome}`, 1]];
}

export function validationStat(stage: string, result: string, reason: string, count: number): StatIncrement[] {
  return [[`v|${stage}|${result}|${reason}`, count]];
}

export function vmValidationStat(stage: string, result: string, reason: string, count: number): StatIncrement[] {
  return [[`m|${stage}|${result}|${reason}`, count]];
}

export function phaseDurationStat(phase: string, seconds: number): StatIncrement[] {
  return histogramStat(`p|${phase}`, PHASE_BUCKETS_SECONDS, seconds);
}

export function blackoutStat(seconds: number): StatIncrement[] {
  return histogramStat('b', BLACKOUT_BUCKETS_SECONDS, seconds);
}

/** Sums are kept in microseconds so HINCRBY (integers) can hold them exactly. */
function histogramStat(base: string, buckets: number[], seconds: number): StatIncrement[] {
  const le = buckets.find((b) => seconds <= b);
  return [
    [`${base}|${le === undefined ? '+Inf' : String(le)}`, 1],
    [`${base}|sum_us`, Math.round(seconds * 1e6)],
    [`${base}|count`, 1],
  ];
}

/** The parsed content of one or more stats hashes. */
export interface ValidationCount {
  stage: string;
  result: string;
  reason: string;
  count: number;
}

export interface FleetStats {
  handovers: Map<string, number>;
  validations: Map<string, ValidationCount>;
  vmValidations: Map<string, ValidationCount>;
  phases: Map<string, Histogram>;
  blackout: Histogram;
}

export interface Histogram {
  /** Non-cumulative counts by upper bound (`+Inf` included). */
  buckets: Map<string, number>;
  sumSeconds: number;
  count: number;
}

export function emptyFleetStats(): FleetStats {
  return { handovers: new Map(), validations: new Map(), vmValidations: new Map(), phases: new Map(), blackout: emptyHistogram() };
}

function emptyHistogram(): Histogram {
  return { buckets: new Map(), sumSeconds: 0, count: 0 };
}

/** Adds one stats hash (HGETALL result) into `into`. Unknown fields are ignored, for forward compatibility. */
export function addFleetStats(into: FleetStats, hash: Record<string, string>): FleetStats {
  for (const [field, raw] of Object.entries(hash)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) continue;
    const parts = field.split('|');
    switch (parts[0]) {
      case 'h':
        into.handovers.set(parts[1], (into.handovers.get(parts[1]) ?? 0) + n);
        break;
      case 'v':
        addValidation(into.validations, parts, n);
        break;
      case 'm':
        addValidation(into.vmValidations, parts, n);
        break;
      case 'p': {
        const h = into.phases.get(parts[1]) ?? emptyHistogram();
        addHistogramField(h, parts[2], n);
        into.phases.set(parts[1], h);
        break;
      }
      case 'b':
        addHistogramField(into.blackout, parts[1], n);
        break;
    }
  }
  return into;
}

function addValidation(into: Map<string, ValidationCount>, parts: string[], n: number): void {
  const key = parts.slice(1).join('|');
  const v = into.get(key) ?? { stage: parts[1], result: parts[2], reason: parts[3], count: 0 };
  v.count += n;
  into.set(key, v);
}

function addHistogramField(h: Histogram, key: string, n: number): void {
  if (key === 'sum_us') h.sumSeconds += n / 1e6;
  else if (key === 'count') h.count += n;
  else h.buckets.set(key, (h.buckets.get(key) ?? 0) + n);
}
