import { KERNEL_RELEASE, KERNEL_RELEASE_RULE, STRATEGIES } from '@luo-fleet/handover';
import { DEFAULT_PROFILE, listRuleProfiles } from '@luo-fleet/preservation';
import { FaultProfileError, FLEET_FAULT_KINDS, parseFleetFaultProfile } from '@luo-fleet/simulated-host';
import { LABEL_KEY, LABEL_MAX, parseSelector, SelectorError } from '@luo-fleet/store';
import type { Quantity, RolloutSpec } from '@luo-fleet/rollout';
import { z } from 'zod';

const MINUTE_MS = 60_000;
const DEFAULT_DURATION_MINUTES = 240;
/** Without an explicit cutoff, no host starts in the last tenth of the window (time to finish). */
const DEFAULT_CUTOFF_SHARE = 0.1;
const MAX_EPOCH_MS = 8.64e15; // the largest time a JS Date can hold

/** A rollout id as created (a UUID), or anything of the same safe alphabet: it becomes part of Redis keys. */
export const rolloutIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ -');

/**
 * A time as ISO-8601 with an explicit zone (a zone-less time would mean whatever the planner's
 * clock zone is) or as epoch milliseconds; both become epoch ms.
 */
const instantSchema = z.union([
  z.number().int('epoch milliseconds must be an integer').min(0, 'must not be negative').max(MAX_EPOCH_MS, 'is too far in the future'),
  z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time with a zone (2025-06-01T22:00:00Z) or epoch milliseconds' }).transform((s) => Date.parse(s)),
], { error: 'must be an ISO-8601 time with a zone (2025-06-01T22:00:00Z) or epoch milliseconds' });

const PERCENT = /^(\d{1,3}(?:\.\d+)?)%$/;

/** A count, or a share of the rollout's eligible hosts such as "20%" (1-100). */
function quantitySchema(minCount: 0 | 1) {
  return z.union(
    [
      z.number().int('must be a whole number').min(minCount, `must be at least ${minCount}`).max(1_000_000, 'must be at most 1000000'),
      z.string().superRefine((text, ctx) => {
        const m = PERCENT.exec(text);
        if (!m) return void ctx.addIssue({ code: 'custom', message: `must be a count (an integer >= ${minCount}) or a percentage such as "20%"` });
        const pct = Number(m[1]);
        if (pct < 1 || pct > 100) ctx.addIssue({ code: 'custom', message: `percentage must be between 1% and 100%, got ${text}` });
      }).describe('a percentage of the eligible hosts, "1%" to "100%"'),
    ],
    { error: `must be a count (an integer >= ${minCount}) or a percentage such as "20%"` },
  ) as unknown as z.ZodType<Quantity, number | string>;
}

const selectorText = z
  .string()
  .min(1, 'must not be empty: a rollout names the hosts it updates (e.g. zone=z1,rack in (r1,r2))')
  .max(4096)
  .superRefine((text, ctx) => {
    try {
      parseSelector(text);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.problem });
    }
  });

const profileName = z.string().superRefine((name, ctx) => {
  const known = listRuleProfiles().map((p) => p.name);
  if (!known.includes(name)) ctx.addIssue({ code: 'custom', message: `unknown rule profile ${JSON.stringify(name)} (known: ${known.join(', ')})` });
});

/** Fault probabilities for simulated hosts, checked by the handover library (which names the wrong key). */
const simulatedFaultsSchema = z.unknown().transform((value, ctx) => {
  try {
    parseFleetFaultProfile(value, 'simulatedFaults');
  } catch (err) {
    if (!(err instanceof FaultProfileError)) throw err;
    // The library's field starts with `simulatedFaults`; zod adds that part back.
    ctx.addIssue({ code: 'custom', message: err.problem, path: err.field.split('.').slice(1) });
    return z.NEVER;
  }
  return value as Record<string, number>;
}).describe(`simulated hosts only: fault probabilities per host, e.g. {"pFailPreKexec": 0.1, "pHang": 0.01} (kinds: ${FLEET_FAULT_KINDS.join(', ')}; sum <= 1)`);

const windowInput = z.strictObject({
  startAt: instantSchema.optional(),
  endAt: instantSchema.optional(),
  durationMinutes: z.number().gt(0, 'must be more than 0').max(366 * 24 * 60, 'must be at most a year').optional(),
  cutoffAt: instantSchema.optional(),
});

export type ResolvedWindow = RolloutSpec['window'];

/**
 * The window in epoch ms, defaults filled, and the checks that need more than one field. Runs at
 * request time (defaults are relative to now); `now` is injectable for tests.
 */
export function windowSchema(now: () => number = Date.now) {
  return windowInput.default({}).transform((w, ctx): ResolvedWindow => {
    const t = now();
    if (w.endAt !== undefined && w.durationMinutes !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give endAt or durationMinutes, not both' });
      return z.NEVER;
    }
    const startAt = w.startAt ?? t;
    const endAt = w.endAt ?? Math.round(startAt + (w.durationMinutes ?? DEFAULT_DURATION_MINUTES) * MINUTE_MS);
    if (endAt <= t) {
      ctx.addIssue({ code: 'custom', path: ['endAt'], message: `is in the past (${new Date(endAt).toISOString()})` });
      return z.NEVER;
    }
    if (endAt <= startAt) {
      ctx.addIssue({ code: 'custom', path: ['endAt'], message: `must be after startAt (${new Date(startAt).toISOString()})` });
      return z.NEVER;
    }
    const cutoffAt = w.cutoffAt ?? Math.round(endAt - (endAt - startAt) * DEFAULT_CUTOFF_SHARE);
    if (cutoffAt < startAt || cutoffAt > endAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['cutoffAt'],
        message: `must lie between startAt (${new Date(startAt).toISOString()}) and endAt (${new Date(endAt).toISOString()})`,
      });
      return z.NEVER;
    }
    return { startAt, endAt, cutoffAt };
  });
}

export function rolloutRequestSchema(now: () => number = Date.now) {
  return z.strictObject({
    selector: selectorText.describe('label selector of the hosts to update, e.g. zone=z1,rack in (r1,r2),!maintenance'),
    targetKernel: z.string().regex(KERNEL_RELEASE, `must be ${KERNEL_RELEASE_RULE}`),
    profile: profileName.default(DEFAULT_PROFILE),
    strictAcs: z.boolean().default(false),
    window: windowSchema(now).describe('times are ISO-8601 with a zone or epoch ms; default start now, 240 minutes, cutoff at 90% of the window'),
    maxConcurrent: quantitySchema(1).default('10%'),
    maxFailures: quantitySchema(0).default('5%'),
    canary: z
      .strictObject({
        batches: z.array(quantitySchema(1)).min(1, 'needs at least 1 batch').max(10, 'at most 10 batches').default([1, '5%']),
        requireApproval: z.boolean().default(false),
      })
      .default({ batches: [1, '5%'], requireApproval: false }),
    maxPerFailureDomain: z
      .strictObject({
        key: z.string().max(LABEL_MAX).regex(LABEL_KEY, `must be a label key: 1-${LABEL_MAX} characters of a-z 0-9 _ . / -`),
        limit: z.number().int('must be a whole number').min(1, 'must be at least 1'),
      })
      .optional(),
    strategies: z
      .array(z.enum(STRATEGIES))
      .min(1, 'needs at least 1 strategy')
      .refine((list) => new Set(list).size === list.length, 'lists a strategy twice')
      .optional()
      .describe(`the strategies a host may be updated by, in order of preference (${STRATEGIES.join(', ')}); default ["live-update"]`),
    maxVmRestarts: quantitySchema(0).optional().describe('VM restarts live-update-restart may make over the rollout: a count, or a percentage of its VMs; default all'),
    evacuation: z.strictObject({ sameDomain: z.boolean().default(false) }).optional().describe('evacuate: targets only in the host\'s failure domain'),
    dryRun: z.boolean().default(false),
    simulatedFaults: simulatedFaultsSchema.optional(),
    seed: z.number().int('must be a whole number').min(0, 'must not be negative').max(2 ** 32 - 1, 'must fit 32 bits').optional(),
  });
}

export type RolloutRequest = z.output<ReturnType<typeof rolloutRequestSchema>>;

/** The validated request as the rollout library's spec (epoch ms, defaults filled). */
export function specOf(req: RolloutRequest): RolloutSpec {
  return {
    selector: req.selector,
    targetKernel: req.targetKernel,
    profile: req.profile,
    strictAcs: req.strictAcs,
    window: req.window,
    maxConcurrent: req.maxConcurrent,
    maxFailures: req.maxFailures,
    canary: req.canary,
    ...(req.maxPerFailureDomain ? { maxPerFailureDomain: req.maxPerFailureDomain } : {}),
    ...(req.strategies ? { strategies: req.strategies } : {}),
    ...(req.maxVmRestarts !== undefined ? { maxVmRestarts: req.maxVmRestarts } : {}),
    ...(req.evacuation ? { evacuation: req.evacuation } : {}),
    dryRun: req.dryRun,
    ...(req.simulatedFaults !== undefined ? { simulatedFaults: req.simulatedFaults } : {}),
  };
}

export const rolloutListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** Scan cursors of the store, optionally with how many hosts of that scan step were already served. */
export const HOST_CURSOR = /^\d{1,20}(\.\d{1,7})?$/;

export const rolloutHostsQuery = z.strictObject({
  state: z.string().regex(/^[a-z_]{1,32}$/, 'must be a host state such as pending, preserve, updated or failed').optional(),
  cursor: z.string().regex(HOST_CURSOR, 'must be the nextCursor of the previous page').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const rolloutEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;
