import { BLACKOUT_BUCKETS_SECONDS, PHASE_BUCKETS_SECONDS } from './metric-names';

/**
 * Fleet-wide counters live in Redis hashes (one per rollout), incremented by workers in the same
 * atomic step that appends the journal entry they describe: so a count exists exactly when its fact
 * does, whatever worker wrote it, and the metrics app only has to read and add. Field names:
 *   h|<outcome>  h|<outcome>|<strategy> handovers by outcome, and by strategy when the plan named
 *                                       one (none: a Live Update's, as before strategies existed)
 *   d|<kind>                            VMs by what an update did to them (preserved, migrated, ...)
 *   v|<stage>|<result>|<reason>         device validations
 *   m|<stage>|<result>|<reason>         VM validations
 *   p|<phase>|<le or +Inf>  p|<phase>|sum  p|<phase>|count   phase durations (non-cumulative buckets)
 *   b|<le or +Inf>  b|sum  b|count      blackout
 */
export type StatIncrement = [field: string, by: number];

/** `strategy` only when the plan named one: a Live Update's outcome keeps the field it always had. */
export function outcomeStat(outcome: string, strategy?: string): StatIncrement[] {
  return [[strategy === undefined ? `h|${outcome}` : `h|${outcome}|${strategy}`, 1]];
}

export function vmDisruptionStat(kind: string, count: number): StatIncrement[] {
  return [[`d|${kind}`, count]];
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

/** Hosts finished with one outcome under one plan strategy (absent: the plan named none). */
export interface HandoverCount {
  outcome: string;
  strategy?: string;
  count: number;
}

export interface FleetStats {
  /** By `outcome` or `outcome|strategy`, as stored. */
  handovers: Map<string, HandoverCount>;
  validations: Map<string, ValidationCount>;
  vmValidations: Map<string, ValidationCount>;
  /** VMs by disruption kind. */
  vmDisruptions: Map<string, number>;
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
  return { handovers: new Map(), validations: new Map(), vmValidations: new Map(), vmDisruptions: new Map(), phases: new Map(), blackout: emptyHistogram() };
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
      case 'h': {
        const key = parts.slice(1).join('|');
        const h = into.handovers.get(key) ?? { outcome: parts[1], ...(parts[2] === undefined ? {} : { strategy: parts[2] }), count: 0 };
        h.count += n;
        into.handovers.set(key, h);
        break;
      }
      case 'd':
        into.vmDisruptions.set(parts[1], (into.vmDisruptions.get(parts[1]) ?? 0) + n);
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
