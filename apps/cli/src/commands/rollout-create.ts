import { readFileSync } from 'node:fs';
import { CliInputError } from '../input-error';

export interface CreateFlags {
  file?: string;
  selector?: string;
  kernel?: string;
  profile?: string;
  strictAcs?: boolean;
  maxConcurrent?: string;
  maxFailures?: string;
  canary?: string;
  requireApproval?: boolean;
  domainKey?: string;
  domainLimit?: string;
  start?: string;
  end?: string;
  durationMinutes?: string;
  cutoff?: string;
  dryRun?: boolean;
  seed?: string;
}

/** "5" is a count, "20%" a share; anything else goes as written and the planner names what is wrong. */
function quantity(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** Epoch ms as digits, else an ISO-8601 time (checked by the planner). */
function instant(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function number(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new CliInputError(`${flag} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

function readSpecFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliInputError(`--file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw new CliInputError(`--file ${path}: not JSON (${(err as Error).message})`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new CliInputError(`--file ${path}: must hold one JSON object (a rollout request)`);
  return spec as Record<string, unknown>;
}

/**
 * The POST /v1/rollouts body: the --file spec (if any) with the flags given laid over it. Only
 * what the command line cannot express is checked here; the planner validates the rest and names
 * each wrong field.
 */
export function rolloutRequestOf(flags: CreateFlags): Record<string, unknown> {
  const body: Record<string, unknown> = flags.file ? readSpecFile(flags.file) : {};
  if (flags.selector !== undefined) body.selector = flags.selector;
  if (flags.kernel !== undefined) body.targetKernel = flags.kernel;
  if (body.selector === undefined) throw new CliInputError('--selector is required (or a --file with "selector")');
  if (body.targetKernel === undefined) throw new CliInputError('--kernel is required (or a --file with "targetKernel")');
  if (flags.profile !== undefined) body.profile = flags.profile;
  if (flags.strictAcs) body.strictAcs = true;
  if (flags.maxConcurrent !== undefined) body.maxConcurrent = quantity(flags.maxConcurrent);
  if (flags.maxFailures !== undefined) body.maxFailures = quantity(flags.maxFailures);
  if (flags.canary !== undefined || flags.requireApproval) {
    const canary = { ...((body.canary as Record<string, unknown> | undefined) ?? {}) };
    if (flags.canary !== undefined) canary.batches = flags.canary.split(',').map((q) => quantity(q.trim()));
    if (flags.requireApproval) canary.requireApproval = true;
    body.canary = canary;
  }
  if ((flags.domainKey === undefined) !== (flags.domainLimit === undefined)) throw new CliInputError('--domain-key and --domain-limit go together');
  if (flags.domainKey !== undefined) body.maxPerFailureDomain = { key: flags.domainKey, limit: number('--domain-limit', flags.domainLimit!) };
  if (flags.end !== undefined && flags.durationMinutes !== undefined) throw new CliInputError('give --end or --duration-minutes, not both');
  const times = { startAt: flags.start, endAt: flags.end, cutoffAt: flags.cutoff };
  if (Object.values(times).some((t) => t !== undefined) || flags.durationMinutes !== undefined) {
    const window = { ...((body.window as Record<string, unknown> | undefined) ?? {}) };
    for (const [field, text] of Object.entries(times)) if (text !== undefined) window[field] = instant(text);
    if (flags.durationMinutes !== undefined) {
      window.durationMinutes = number('--duration-minutes', flags.durationMinutes);
      delete window.endAt;
    }
    if (flags.end !== undefined) delete window.durationMinutes;
    body.window = window;
  }
  if (flags.dryRun) body.dryRun = true;
  if (flags.seed !== undefined) body.seed = number('--seed', flags.seed);
  return body;
}
