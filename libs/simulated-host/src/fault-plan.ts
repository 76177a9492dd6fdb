import { z } from 'zod';
import type { Bdf, HostTopology } from '@luo-fleet/topology';
import { HOST_STEPS, VM_STEPS, type HostStep, type VmStep } from '@luo-fleet/handover';
import { seededRandom, type SeedPart } from './seeded-random';

/** Steps `failStep` can make fail (kexec fails through `rebootReturnsError` instead). */
export const FAILABLE_STEPS = [...HOST_STEPS.filter((s): s is Exclude<HostStep, 'kexec'> => s !== 'kexec'), ...VM_STEPS];
export type FailableStep = Exclude<HostStep, 'kexec'> | VmStep;

/** Steps `hangStep` can make hang: any mutating step. */
export const HANGABLE_STEPS = [...HOST_STEPS, ...VM_STEPS];
export type HangableStep = (typeof HANGABLE_STEPS)[number];

/**
 * What goes wrong on one simulated host. Each fault models a way a real Live Update fails:
 * - failStep: the step answers with an error, every time it is called. Pre-kexec steps fail after
 *   doing part of their work, as real ones do: kexec_load stages nothing; preserve preserves the
 *   first half of the devices; freeze pauses the vCPUs but does not finish freezing; stop_vms
 *   stops the first half of its VMs; drain migrates the first half of them (a migration that
 *   breaks midway). Rollback steps and post-kexec steps (start_vms too) fail without changing
 *   anything.
 * - hangStep: the call never answers (a stuck VMM hook); the orchestrator's step timeout must act.
 * - rebootReturnsError: reboot(LINUX_REBOOT_CMD_KEXEC) returns; nothing happened.
 * - neverReturns: kexec goes through and the host never answers again.
 * - panicFallback: the new kernel panicked restoring PCI state; the host is back on its old kernel
 *   with a new boot id, nothing incoming, and its VMs lost.
 * - hotplugIntoGroupOf: a device appears in this device's IOMMU group (see applyHotplug).
 * - retrieveFails: the new kernel refuses to hand the preserved devices back.
 */
export interface FaultPlan {
  failStep?: FailableStep;
  hangStep?: HangableStep;
  rebootReturnsError?: boolean;
  neverReturns?: boolean;
  panicFallback?: boolean;
  hotplugIntoGroupOf?: Bdf;
  retrieveFails?: boolean;
}

const bdfText = z.string().regex(/^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'expected a full lower-case BDF dddd:bb:dd.f');

export const faultPlanSchema = z.strictObject({
  failStep: z.enum(FAILABLE_STEPS).optional(),
  hangStep: z.enum(HANGABLE_STEPS).optional(),
  rebootReturnsError: z.boolean().optional(),
  neverReturns: z.boolean().optional(),
  panicFallback: z.boolean().optional(),
  hotplugIntoGroupOf: bdfText.optional(),
  retrieveFails: z.boolean().optional(),
});

/**
 * Fleet-wide fault probabilities. A host gets at most one fault, so each number is the share of
 * hosts that will show that fault (the sum must not exceed 1).
 */
export interface FleetFaultProfile {
  /** A pre-kexec step (kexec_load, preserve or freeze) fails: the host is rolled back. */
  pFailPreKexec: number;
  /** retrieve or finish fails after kexec: the host fails. */
  pFailPostKexec: number;
  pRebootError: number;
  pNeverReturns: number;
  pPanicFallback: number;
  /** A device is hot-plugged into a preserved device's group: precheck sees drift. */
  pHotplug: number;
  pRetrieveFails: number;
  /** A pre-kexec step hangs: the step timeout fails it and the host is rolled back. */
  pHang: number;
  /** `drain` fails after migrating half the VMs (only an evacuated host runs it): rolled back. */
  pFailDrain: number;
  /** `stop_vms` fails after stopping half (only a live-update-restart runs it): rolled back. */
  pFailStopVms: number;
  /** `start_vms` fails after the kexec (only a live-update-restart runs it): the host fails. */
  pFailStartVms: number;
}

export const FLEET_FAULT_KINDS = [
  'pFailPreKexec',
  'pFailPostKexec',
  'pRebootError',
  'pNeverReturns',
  'pPanicFallback',
  'pHotplug',
  'pRetrieveFails',
  'pHang',
  'pFailDrain',
  'pFailStopVms',
  'pFailStartVms',
] as const satisfies readonly (keyof FleetFaultProfile)[];

export const NO_FAULTS: FleetFaultProfile = Object.freeze({
  pFailPreKexec: 0,
  pFailPostKexec: 0,
  pRebootError: 0,
  pNeverReturns: 0,
  pPanicFallback: 0,
  pHotplug: 0,
  pRetrieveFails: 0,
  pHang: 0,
  pFailDrain: 0,
  pFailStopVms: 0,
  pFailStartVms: 0,
});

const probability = z.number().min(0, 'must be at least 0').max(1, 'must be at most 1');
const profileSchema = z
  .strictObject(Object.fromEntries(FLEET_FAULT_KINDS.map((k) => [k, probability.optional()])) as Record<
    keyof FleetFaultProfile,
    z.ZodOptional<typeof probability>
  >)
  .refine((p) => FLEET_FAULT_KINDS.reduce((sum, k) => sum + (p[k] ?? 0), 0) <= 1 + 1e-9, {
    message: 'probabilities add up to more than 1 (a host gets at most one fault)',
  });

/** A fault profile or fault plan that cannot be used, naming the field. */
export class FaultProfileError extends Error {
  override name = 'FaultProfileError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

function fail(what: string, error: z.ZodError): never {
  const issue = error.issues[0];
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const path = [what, ...issue.path.map(String), ...keys].join('.');
  throw new FaultProfileError(path, issue.message);
}

/** Reads a profile such as a rollout's `simulatedFaults`; missing kinds are 0. */
export function parseFleetFaultProfile(input: unknown, what = 'simulatedFaults'): FleetFaultProfile {
  const parsed = profileSchema.safeParse(input ?? {});
  if (!parsed.success) fail(what, parsed.error);
  return { ...NO_FAULTS, ...(parsed.data as Partial<FleetFaultProfile>) };
}

export function parseFaultPlan(input: unknown, what = 'faults'): FaultPlan {
  const parsed = faultPlanSchema.safeParse(input ?? {});
  if (!parsed.success) fail(what, parsed.error);
  return parsed.data;
}

const PRE_KEXEC_FAILS = ['kexec_load', 'preserve', 'freeze'] as const;
const POST_KEXEC_FAILS = ['retrieve', 'finish'] as const;

/**
 * The faults one host of a fleet will show: the same for the same seed and host, whichever
 * process asks. Hot-plug needs a preservable device with an IOMMU group; a host without one gets
 * no fault from that share.
 */
export function drawFaultPlan(
  profile: FleetFaultProfile,
  seed: SeedPart,
  hostId: string,
  topology: HostTopology,
  preservableBdfs: readonly Bdf[],
): FaultPlan {
  const random = seededRandom('faults', seed, hostId);
  const pick = <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(random() * items.length))];
  const u = random();
  let edge = 0;
  const kind = FLEET_FAULT_KINDS.find((k) => u < (edge += profile[k]));
  switch (kind) {
    case undefined:
      return {};
    case 'pFailPreKexec':
      return { failStep: pick(PRE_KEXEC_FAILS) };
    case 'pFailPostKexec':
      return { failStep: pick(POST_KEXEC_FAILS) };
    case 'pRebootError':
      return { rebootReturnsError: true };
    case 'pNeverReturns':
      return { neverReturns: true };
    case 'pPanicFallback':
      return { panicFallback: true };
    case 'pRetrieveFails':
      return { retrieveFails: true };
    case 'pHang':
      return { hangStep: pick(PRE_KEXEC_FAILS) };
    case 'pFailDrain':
      return { failStep: 'drain' };
    case 'pFailStopVms':
      return { failStep: 'stop_vms' };
    case 'pFailStartVms':
      return { failStep: 'start_vms' };
    case 'pHotplug': {
      const grouped = new Set(topology.devices.filter((d) => d.iommuGroup !== null).map((d) => d.bdf));
      const candidates = preservableBdfs.filter((b) => grouped.has(b));
      return candidates.length === 0 ? {} : { hotplugIntoGroupOf: pick(candidates) };
    }
  }
}

/** One short word for a plan's fault, for demo output and logs: `none`, `fail:preserve`, `panic-fallback`, ... */
export function faultLabel(plan: FaultPlan): string {
  const labels: string[] = [];
  if (plan.failStep) labels.push(`fail:${plan.failStep}`);
  if (plan.hangStep) labels.push(`hang:${plan.hangStep}`);
  if (plan.rebootReturnsError) labels.push('reboot-returns-error');
  if (plan.neverReturns) labels.push('never-returns');
  if (plan.panicFallback) labels.push('panic-fallback');
  if (plan.hotplugIntoGroupOf) labels.push(`hotplug:${plan.hotplugIntoGroupOf}`);
  if (plan.retrieveFails) labels.push('retrieve-fails');
  return labels.length === 0 ? 'none' : labels.join(',');
}
