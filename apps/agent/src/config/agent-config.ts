import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { AGENT_STEPS, secretFromFileContent, VM_STEPS, type VmStep } from '@luo-fleet/handover';

/**
 * The hooks an operator configures: every host-touching step of design 4.2 and 4.6, plus the
 * `incoming` query. The VM steps' hooks may be left out: such a host can only be live-updated.
 */
export const HOOK_NAMES = [...AGENT_STEPS, 'incoming'] as const;
/** Queries a host may do without: with no `vms` hook the agent says it cannot list VMs. */
export const OPTIONAL_HOOK_NAMES = ['vms'] as const;
export type HookName = (typeof HOOK_NAMES)[number] | (typeof OPTIONAL_HOOK_NAMES)[number];

function isVmStep(name: string): name is VmStep {
  return (VM_STEPS as readonly string[]).includes(name);
}

/**
 * With `liveupdate` configured the agent holds /dev/liveupdate and does these itself (design 1:
 * session fds must stay open in one process until the kexec reboot); only the VMM's steps stay hooks.
 */
export const LIVEUPDATE_DRIVER_STEPS = ['kexec_load', 'preserve', 'kexec', 'retrieve', 'finish', 'unpreserve', 'kexec_unload', 'incoming'] as const satisfies readonly HookName[];
export type LiveUpdateDriverStep = (typeof LIVEUPDATE_DRIVER_STEPS)[number];

const absolutePath = z.string().min(1).refine(isAbsolute, 'must be an absolute path');

const hookSchema = z.strictObject({
  // Absolute, so that no PATH lookup can pick a command the operator did not name.
  command: absolutePath,
  args: z.array(z.string()).default([]),
  timeoutMs: z.number().int().min(1).max(24 * 3_600_000),
});
export type HookCommand = z.output<typeof hookSchema>;

// Which hooks must be present depends on `liveupdate`; parseAgentConfig checks that (hooksRequired).
// The VM steps' hooks and the `vms` query are optional in every mode.
const hooksShape = {
  ...(Object.fromEntries(HOOK_NAMES.map((name) => [name, hookSchema.optional()])) as Record<(typeof HOOK_NAMES)[number], z.ZodOptional<typeof hookSchema>>),
  vms: hookSchema.optional(),
};

/**
 * The agent's own Live Update driver (apps/agent/src/liveupdate): it owns /dev/liveupdate, keeps
 * one session per VM, stages the target kernel with kexec_file_load and reboots with the session
 * fds held. The VMM's part stays behind hooks: `freeze`/`thaw` (pause, resume) and these two.
 */
const liveUpdateSchema = z.strictObject({
  /** kexec-tools; `-s -l` stages (kexec_file_load), `-e` reboots, `-u` unloads. */
  kexecCommand: absolutePath.default('/usr/sbin/kexec'),
  /** Target kernel `<release>` is `vmlinuz-<release>` here, with `initrd.img-<release>` if present. */
  kernelDir: absolutePath.default('/boot'),
  /** How long `kexec -s -l` and `kexec -u` may take. */
  kexecTimeoutMs: z.number().int().min(1).max(3_600_000).default(120_000),
  vmm: z.strictObject({
    /** Prints `{"vms":[{"id":"vm-a","pid":1234,"memory":[{"fd":7}]}]}`: every VM's guest-memory memfds, by process and fd. */
    guestMemory: hookSchema,
    /** New kernel: gets each VM's retrieved memfds as inherited fds (listed on stdin), restores and resumes the VMs. */
    restore: hookSchema,
  }),
});
export type LiveUpdateConfig = z.output<typeof liveUpdateSchema>;

const ms = (max: number) => z.number().int().min(1).max(max);

/** What one client may ask of the HTTP server: every request is small, and the orchestrator is the only client. */
const httpLimitsSchema = z.strictObject({
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Arrays and objects inside one another; a step request needs fewer than ten. */
  maxJsonDepth: z.number().int().min(4).max(1_000).default(32),
  headersTimeoutMs: ms(600_000).default(10_000),
  /** The whole body, from the end of the headers. */
  bodyTimeoutMs: ms(600_000).default(30_000),
  /** Silence between two pieces of a body. */
  bodyIdleMs: ms(600_000).default(5_000),
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeoutMs: ms(600_000).default(5_000),
  maxConnections: z.number().int().min(1).max(100_000).default(64),
  /** Failed authentications one client address may have in a burst before it gets 429s. */
  authFailureBurst: z.number().int().min(1).max(10_000).default(20),
  /** One more failed authentication is allowed per this long. */
  authFailureRefillMs: ms(3_600_000).default(3_000),
});
export type HttpLimits = z.output<typeof httpLimitsSchema>;

/** Finished step records and hook output files are removed past this age, and oldest first past this total. */
const retentionSchema = z.strictObject({
  maxAgeMs: ms(3_650 * 86_400_000).default(14 * 86_400_000),
  maxBytes: z.number().int().min(1024 * 1024).default(256 * 1024 * 1024),
});
export type Retention = z.output<typeof retentionSchema>;

export const agentConfigSchema = z.strictObject({
  hostId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}$/, 'letters, digits and ._:/@+- only'),
  listen: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7450),
  }).default({ host: '127.0.0.1', port: 7450 }),
  sysfsRoot: absolutePath.default('/sys'),
  bootIdPath: absolutePath.default('/proc/sys/kernel/random/boot_id'),
  kernelReleasePath: absolutePath.default('/proc/sys/kernel/osrelease'),
  cmdlinePath: absolutePath.default('/proc/cmdline'),
  liveupdateDevicePath: absolutePath.default('/dev/liveupdate'),
  secretFile: absolutePath,
  stateDir: absolutePath,
  /**
   * A kexec hook that exits non-zero within this long means the reboot syscall returned; after it
   * (or on exit 0) the agent answers 202 "reboot under way".
   */
  kexecReturnWindowMs: z.number().int().min(0).max(600_000).default(5_000),
  /** After a hook's timeout: SIGTERM to its process group, then SIGKILL this much later. */
  killGraceMs: z.number().int().min(0).max(600_000).default(5_000),
  hooks: z.strictObject(hooksShape),
  liveupdate: liveUpdateSchema.optional(),
  /** Mutual TLS: serve https with this certificate and accept only clients with a certificate signed by clientCaFile. */
  tls: z.strictObject({ certFile: absolutePath, keyFile: absolutePath, clientCaFile: absolutePath }).optional(),
  http: httpLimitsSchema.prefault({}),
  retention: retentionSchema.prefault({}),
});
export type AgentConfig = z.output<typeof agentConfigSchema>;

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** `hooks.preserve.timeoutMs: expected number` style: the field named, as an operator would look for it. */
export function parseAgentConfig(input: unknown, source = 'config'): AgentConfig {
  const parsed = agentConfigSchema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${[...issue.path, k].join('.')}: unknown field`).join('; ');
        return `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`;
      });
  problems.push(...hookPresenceProblems(input));
  if (parsed.success && problems.length === 0) return parsed.data;
  throw new AgentConfigError(`${source}: ${problems.join('; ')}`);
}

/**
 * Without `liveupdate` every hook is required; with it, exactly the VMM's (`freeze`, `thaw`), since
 * a hook for a step the agent does itself would never run. Read from the raw input, so these are
 * named alongside any other problem.
 */
function hookPresenceProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const { hooks, liveupdate } = input as { hooks?: unknown; liveupdate?: unknown };
  if (typeof hooks !== 'object' || hooks === null) return [];
  const present = (name: HookName) => (hooks as Record<string, unknown>)[name] !== undefined;
  const driverSteps: readonly HookName[] = LIVEUPDATE_DRIVER_STEPS;
  const problems: string[] = [];
  for (const name of HOOK_NAMES) {
    const byDriver = liveupdate !== undefined && driverSteps.includes(name);
    if (!byDriver && !present(name) && !isVmStep(name)) problems.push(`hooks.${name}: required`);
    if (byDriver && present(name)) problems.push(`hooks.${name}: the agent does this step itself when liveupdate is configured; remove the hook`);
  }
  return problems;
}

/** The hook configured for `name`; parseAgentConfig guarantees it for every step the agent does not do itself. */
export function hookFor(config: AgentConfig, name: HookName): HookCommand {
  const hook = config.hooks[name];
  if (!hook) throw new AgentConfigError(`hooks.${name} is not configured`);
  return hook;
}

export function loadAgentConfig(file: string | undefined): AgentConfig {
  if (!file) throw new AgentConfigError('LUO_AGENT_CONFIG: set it to the path of the agent JSON config');
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`LUO_AGENT_CONFIG: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new AgentConfigError(`${file}: not JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(json, file);
}

/** The secret is the file's bytes without trailing whitespace (`openssl rand -hex 32 > secret`). */
export function readAgentSecret(config: AgentConfig, warn: (message: string) => void = () => {}): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(config.secretFile);
    if ((statSync(config.secretFile).mode & 0o077) !== 0) {
      warn(`secretFile ${config.secretFile} is readable by group or others; chmod 600 it`);
    }
  } catch (err) {
    throw new AgentConfigError(`secretFile: cannot read ${config.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const secret = secretFromFileContent(bytes);
  if (secret.length < 16) throw new AgentConfigError(`secretFile: ${config.secretFile} holds ${secret.length} bytes; use at least 16 (32 random bytes recommended)`);
  return secret;
}
