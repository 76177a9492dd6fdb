import { isBdf } from '@luo-fleet/topology';
import { KERNEL_RELEASE, KERNEL_RELEASE_RULE } from '../kernel-release';
import { HOST_STEPS, STRATEGIES, VM_STEPS } from '../phases';
import { z } from 'zod';

/**
 * What travels between the orchestrator and a host agent (design 4.2 and 4.6 steps that touch the
 * host). Kept beside the driver so that both ends parse the same shapes.
 */
export const AGENT_STEPS = [...HOST_STEPS, ...VM_STEPS] as const;
export type AgentStep = (typeof AGENT_STEPS)[number];

export function isAgentStep(value: string): value is AgentStep {
  return (AGENT_STEPS as readonly string[]).includes(value);
}

export const AGENT_PATHS = {
  identity: '/v1/identity',
  topology: '/v1/topology',
  incoming: '/v1/incoming',
  vms: '/v1/vms',
  step: (step: AgentStep) => `/v1/steps/${step}`,
} as const;

// Hooks may build paths from these (e.g. /boot/vmlinuz-<targetKernel>), so they are held to the
// characters such names really use even though they never reach a shell or an argv.
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}$/;
const token = () => z.string().regex(TOKEN, 'letters, digits and ._:/@+- only, at most 256');
const bdf = () => z.string().refine(isBdf, 'a PCI address in full form dddd:bb:dd.f, lower case');

export const stepRequestSchema = z.strictObject({
  requestId: token(),
  handoverId: token(),
  hostId: token(),
  rolloutId: token(),
  targetKernel: z.string().regex(KERNEL_RELEASE, KERNEL_RELEASE_RULE),
  // The hook gets the whole set; only what it must rely on is checked here.
  preservationSet: z.looseObject({
    devices: z.array(z.looseObject({ bdf: bdf(), preservable: z.boolean() })),
  }),
  // Design 4.6, only for a strategy other than live-update. VM and host ids are held to the same
  // characters as the other names a hook may build paths or commands from.
  strategy: z.enum(STRATEGIES).optional(),
  restartVms: z.array(token()).optional(),
  migrations: z
    .array(
      z.strictObject({
        vmId: token(),
        targetHostId: token(),
      }),
    )
    .optional(),
});
export type StepRequest = z.output<typeof stepRequestSchema>;

/** The agent's answer for one step; the same answer for every repeat of one requestId. */
export const stepAnswerSchema = z.object({
  step: z.enum(AGENT_STEPS),
  requestId: z.string(),
  ok: z.boolean(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number(),
  outputTail: z.array(z.string()),
  timedOut: z.boolean(),
  /** kexec only: the hook exited non-zero within the return window, i.e. the reboot syscall returned. */
  rebootReturned: z.boolean().optional(),
  /** kexec only: the hook started and the reboot is under way (answered with 202). */
  rebootIssued: z.boolean().optional(),
});
export type StepAnswer = z.output<typeof stepAnswerSchema>;

export const identityAnswerSchema = z.object({
  bootId: z.string().min(1),
  kernelRelease: z.string().min(1),
  luoEnabled: z.boolean(),
  reasons: z.array(z.literal('LUO_DISABLED')),
  detail: z.array(z.string()).optional(),
});
export type IdentityAnswer = z.output<typeof identityAnswerSchema>;

/** What the `incoming` hook prints on stdout, and what the agent answers when it succeeded. */
export const incomingReportSchema = z.object({
  incoming: z.array(bdf()),
});

/** How a read-only hook (incoming, vms) ran, in every answer that reports one. */
const hookRunShape = {
  ok: z.boolean(),
  exitCode: z.number().int().nullable(),
  outputTail: z.array(z.string()),
  timedOut: z.boolean(),
  problem: z.string().optional(),
};

export const incomingAnswerSchema = z.object({
  ...hookRunShape,
  incoming: z.array(z.string()).optional(),
});
export type IncomingAnswer = z.output<typeof incomingAnswerSchema>;

/**
 * The agent's answer to GET /v1/vms. `configured` false: the agent has no `vms` hook, so it cannot
 * say which VMs run. Otherwise the hook's JSON array, in the inventory's form (design 4.5), which
 * the agent has checked with parseVms.
 */
export const vmsAnswerSchema = z.object({
  ...hookRunShape,
  configured: z.boolean(),
  vms: z.array(z.unknown()).optional(),
});
export type VmsAnswer = z.output<typeof vmsAnswerSchema>;
