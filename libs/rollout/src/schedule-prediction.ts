import type { ResolvedLimits } from './limits';

export interface PredictedBatch {
  batch: number;
  hosts: number;
  /** Offsets from the window's start, in seconds. */
  startsAt: number;
  endsAt: number;
  waitsForApproval: boolean;
}

export interface PredictedSchedule {
  batches: PredictedBatch[];
  makespanSeconds: number;
  /** Hosts that would still be waiting at the cutoff, were every handover to take `handoverSeconds`. */
  hostsPastCutoff: number;
}

/**
 * What a dry run shows: batches run one after the other, each in waves of `maxConcurrent`
 * (fewer when a failure-domain limit binds), every handover taking `handoverSeconds`. Approval
 * waits are not counted in the makespan; they are flagged instead.
 */
export function predictSchedule(
  limits: ResolvedLimits,
  opts: { handoverSeconds: number; requireApproval: boolean; cutoffSeconds: number; effectiveConcurrency?: number },
): PredictedSchedule {
  const concurrency = Math.max(1, Math.min(limits.maxConcurrent, opts.effectiveConcurrency ?? limits.maxConcurrent));
  let t = 0;
  let pastCutoff = 0;
  const batches: PredictedBatch[] = limits.batches.map((hosts, i) => {
    const waves = Math.ceil(hosts / concurrency);
    const start = t;
    for (let w = 0; w < waves; w++) {
      const waveStart = start + w * opts.handoverSeconds;
      if (waveStart > opts.cutoffSeconds) pastCutoff += Math.min(concurrency, hosts - w * concurrency);
    }
    t = start + waves * opts.handoverSeconds;
    return { batch: i, hosts, startsAt: start, endsAt: t, waitsForApproval: opts.requireApproval && i > 0 };
  });
  return { batches, makespanSeconds: t, hostsPastCutoff: pastCutoff };
}
