import type { Quantity, RolloutSpec } from './rollout';

/** `20%` of 7 hosts is 2 (rounded up: a percentage never rounds a non-empty batch down to zero). */
export function resolveQuantity(q: Quantity, total: number): number {
  if (typeof q === 'number') return q;
  const pct = Number(q.slice(0, -1));
  return Math.ceil((pct / 100) * total);
}

export interface ResolvedLimits {
  maxConcurrent: number;
  maxFailures: number;
  batches: number[];
}

/**
 * Limits as counts over the `eligible` hosts the rollout will hand over. Canary batches are
 * clipped to what is left; whatever remains after them is the last batch.
 */
export function resolveLimits(spec: Pick<RolloutSpec, 'maxConcurrent' | 'maxFailures' | 'canary'>, eligible: number): ResolvedLimits {
  const maxConcurrent = Math.max(1, resolveQuantity(spec.maxConcurrent, eligible));
  const maxFailures = Math.max(0, resolveQuantity(spec.maxFailures, eligible));
  const batches: number[] = [];
  let left = eligible;
  for (const q of spec.canary.batches) {
    if (left === 0) break;
    const size = Math.min(left, Math.max(1, resolveQuantity(q, eligible)));
    batches.push(size);
    left -= size;
  }
  if (left > 0) batches.push(left);
  return { maxConcurrent, maxFailures, batches };
}
