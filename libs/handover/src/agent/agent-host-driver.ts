import { parseHostTopology, parseVms, type HostTopology, type Vm } from '@luo-fleet/topology';
import type { z } from 'zod';
import {
  HostUnreachableError,
  KexecReturnedError,
  StepFailedError,
  type HostDriver,
  type HostIdentity,
  type IdentityQuery,
  type RetrieveReport,
  type StepContext,
} from '../host-driver';
import {
  AGENT_PATHS,
  identityAnswerSchema,
  incomingAnswerSchema,
  stepAnswerSchema,
  vmsAnswerSchema,
  type AgentStep,
  type StepAnswer,
  type StepRequest,
} from './agent-wire';
import { tlsExchange, type AgentTls } from './agent-tls';
import { agentAddress } from './agent-address';
import { signRequest } from './request-signature';

export interface AgentHostDriverOptions {
  /** The host's agent address, e.g. `https://hv-0042.mgmt:7450` (agentAddress: scheme, host and port only). */
  url: string;
  hostId: string;
  /** The per-host HMAC secret, the same bytes as the agent's secret file (trailing whitespace trimmed). */
  secret: Buffer;
  /**
   * Limit for the quick requests (identity, topology, incoming, kexec). Must exceed the agent's
   * `kexecReturnWindowMs`, which is how long the agent may take to answer a kexec.
   */
  timeoutMs?: number;
  /** Limit for a step POST; must exceed the agent's hook timeout for that step. */
  stepTimeoutMs?: number;
  /** How many times a request that is safe to repeat is sent again after no answer. */
  retries?: number;
  retryDelayMs?: number;
  /** Mutual TLS: with it the driver talks https to `url`, presenting this certificate and trusting only this CA. */
  tls?: AgentTls;
  /** Largest answer read; a larger one is refused unread. */
  maxAnswerBytes?: number;
}

/**
 * maxAnswerBytes: a topology is the largest answer, and the fleet generator's largest host (200
 * devices) is ~68 KB of JSON; 4 MiB leaves room for hosts with thousands of VFs.
 */
const DEFAULTS = { timeoutMs: 10_000, stepTimeoutMs: 15 * 60_000, retries: 3, retryDelayMs: 1_000, maxAnswerBytes: 4 * 1024 * 1024 };

/** Agent text (an error message, a hook's output) as it goes into errors: printable ASCII, clipped. */
const MAX_AGENT_TEXT = 200;

/**
 * The agent answered, but not with something this driver understands or accepts. `reason` says
 * what went wrong in the driver's own words, with nothing the agent sent: what an API may show a
 * caller. The message may add the agent's own (sanitized, clipped) text, for logs and journals.
 */
export class AgentAnswerError extends StepFailedError {
  constructor(
    readonly reason: string,
    detail = '',
  ) {
    super(detail === '' ? reason : `${reason}: ${detail}`);
    this.name = 'AgentAnswerError';
  }
}

interface Exchange {
  status: number;
  body: unknown;
}

/**
 * A HostDriver that talks to `apps/agent` on the host over signed HTTP. Every step POST carries the
 * machine's stable requestId and the agent runs each requestId once, so steps are retried after a
 * lost answer like reads are. kexec is the exception: once the request may have reached the agent
 * it is never sent again; a lost answer is reported as unreachable and the machine's boot-id check
 * decides what happened.
 */
export class AgentHostDriver implements HostDriver {
  private readonly base: string;
  private readonly opts: typeof DEFAULTS;

  constructor(private readonly options: AgentHostDriverOptions) {
    this.base = agentAddress(options.url);
    if (options.tls && !this.base.startsWith('https://')) {
      throw new StepFailedError(`agent ${options.hostId}: mutual TLS is configured but its url ${options.url} is not https://`);
    }
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      stepTimeoutMs: options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
      maxAnswerBytes: options.maxAnswerBytes ?? DEFAULTS.maxAnswerBytes,
    };
  }

  async identity(query: IdentityQuery = {}): Promise<HostIdentity> {
    const answer = await this.read(AGENT_PATHS.identity, identityAnswerSchema, query.once ? 0 : this.opts.retries);
    return { bootId: answer.bootId, kernelRelease: answer.kernelRelease, luoEnabled: answer.luoEnabled };
  }

  async topology(): Promise<HostTopology> {
    const ex = await this.withRetries(() => this.exchange('GET', AGENT_PATHS.topology, undefined, this.opts.timeoutMs));
    this.requireStatus(ex, [200], 'topology');
    try {
      return parseHostTopology(ex.body);
    } catch (err) {
      throw new AgentAnswerError(`agent ${this.options.hostId}: topology answer is not a valid HostTopology`, agentText((err as Error).message));
    }
  }

  /**
   * The host's VMs as its agent's `vms` hook reports them, checked against `topology` when given
   * (every device must be the host's); null when the agent has no `vms` hook, or is older than it (404).
   */
  async vms(topology?: HostTopology): Promise<Vm[] | null> {
    const ex = await this.withRetries(() => this.exchange('GET', AGENT_PATHS.vms, undefined, this.opts.timeoutMs));
    if (ex.status === 404) return null;
    this.requireStatus(ex, [200], AGENT_PATHS.vms);
    const parsed = vmsAnswerSchema.safeParse(ex.body);
    if (!parsed.success) throw new AgentAnswerError(`agent ${this.options.hostId}: ${AGENT_PATHS.vms} answer malformed: ${parsed.error.issues[0]?.message}`);
    const answer = parsed.data;
    if (!answer.configured) return null;
    if (!answer.ok || answer.vms === undefined) {
      throw new AgentAnswerError(`vms hook on ${this.options.hostId} failed${answer.timedOut ? ' (timed out)' : ''}: ${answer.problem ?? ''}${tail(answer.outputTail)}`);
    }
    try {
      return parseVms(answer.vms, topology);
    } catch (err) {
      throw new AgentAnswerError(`agent ${this.options.hostId}: vms answer is not a valid VM list: ${(err as Error).message}`);
    }
  }

  async incoming(_ctx: StepContext): Promise<RetrieveReport> {
    const answer = await this.read(AGENT_PATHS.incoming, incomingAnswerSchema);
    if (!answer.ok || answer.incoming === undefined) {
      throw new StepFailedError(
        `incoming hook on ${this.options.hostId} failed${answer.timedOut ? ' (timed out)' : ''}: ${answer.problem ?? ''}${tail(answer.outputTail)}`,
      );
    }
    return { incoming: answer.incoming };
  }

  kexecLoad(ctx: StepContext): Promise<void> {
    return this.step('kexec_load', ctx);
  }
  preserve(ctx: StepContext): Promise<void> {
    return this.step('preserve', ctx);
  }
  freeze(ctx: StepContext): Promise<void> {
    return this.step('freeze', ctx);
  }
  retrieve(ctx: StepContext): Promise<void> {
    return this.step('retrieve', ctx);
  }
  finish(ctx: StepContext): Promise<void> {
    return this.step('finish', ctx);
  }
  thaw(ctx: StepContext): Promise<void> {
    return this.step('thaw', ctx);
  }
  unpreserve(ctx: StepContext): Promise<void> {
    return this.step('unpreserve', ctx);
  }
  kexecUnload(ctx: StepContext): Promise<void> {
    return this.step('kexec_unload', ctx);
  }
  stopVms(ctx: StepContext): Promise<void> {
    return this.step('stop_vms', ctx);
  }
  startVms(ctx: StepContext): Promise<void> {
    return this.step('start_vms', ctx);
  }
  drain(ctx: StepContext): Promise<void> {
    return this.step('drain', ctx);
  }
  undrain(ctx: StepContext): Promise<void> {
    return this.step('undrain', ctx);
  }

  async kexec(ctx: StepContext): Promise<void> {
    const body = this.stepBody(ctx);
    let ex: Exchange;
    for (let attempt = 0; ; attempt++) {
      try {
        ex = await this.exchange('POST', AGENT_PATHS.step('kexec'), body, this.opts.timeoutMs);
        break;
      } catch (err) {
        // Only a refused connection proves the request never reached the agent.
        if (err instanceof HostUnreachableError && isRefused(err) && attempt < this.opts.retries) {
          await delay(this.opts.retryDelayMs * (attempt + 1));
          continue;
        }
        throw err;
      }
    }
    if (ex.status === 202) return;
    const answer = this.stepAnswer(ex, 'kexec');
    if (answer.rebootReturned) {
      throw new KexecReturnedError(`kexec on ${this.options.hostId}: the reboot returned (exit ${answer.exitCode})${tail(answer.outputTail)}`);
    }
    if (!answer.ok) throw new StepFailedError(`kexec on ${this.options.hostId} failed${tail(answer.outputTail)}`);
  }

  private async step(step: Exclude<AgentStep, 'kexec'>, ctx: StepContext): Promise<void> {
    const body = this.stepBody(ctx);
    const ex = await this.withRetries(() => this.exchange('POST', AGENT_PATHS.step(step), body, this.opts.stepTimeoutMs));
    const answer = this.stepAnswer(ex, step);
    if (!answer.ok) {
      const why = answer.timedOut ? 'timed out and was killed' : `exited ${answer.exitCode ?? 'without a code'}`;
      throw new StepFailedError(`${step} hook on ${this.options.hostId} ${why} after ${answer.durationMs} ms${tail(answer.outputTail)}`);
    }
  }

  private stepBody(ctx: StepContext): string {
    if (ctx.hostId !== this.options.hostId) {
      throw new StepFailedError(`step for host ${ctx.hostId} sent to the agent of ${this.options.hostId}`);
    }
    const request: StepRequest = {
      requestId: ctx.requestId,
      handoverId: ctx.handoverId,
      hostId: ctx.hostId,
      rolloutId: ctx.rolloutId,
      targetKernel: ctx.targetKernel,
      preservationSet: ctx.preservationSet as unknown as StepRequest['preservationSet'],
    };
    if (ctx.strategy !== undefined) request.strategy = ctx.strategy;
    if (ctx.restartVms !== undefined) request.restartVms = ctx.restartVms;
    if (ctx.migrations !== undefined) request.migrations = ctx.migrations;
    return JSON.stringify(request);
  }

  private stepAnswer(ex: Exchange, step: AgentStep): StepAnswer {
    this.requireStatus(ex, [200, 202], step);
    const parsed = stepAnswerSchema.safeParse(ex.body);
    if (!parsed.success) throw new AgentAnswerError(`agent ${this.options.hostId}: ${step} answer malformed`, agentText(parsed.error.issues[0]?.message ?? ''));
    return parsed.data;
  }

  private async read<S extends z.ZodType>(path: string, schema: S, retries = this.opts.retries): Promise<z.output<S>> {
    const ex = await this.withRetries(() => this.exchange('GET', path, undefined, this.opts.timeoutMs), retries);
    this.requireStatus(ex, [200], path);
    const parsed = schema.safeParse(ex.body);
    if (!parsed.success) throw new AgentAnswerError(`agent ${this.options.hostId}: ${path} answer malformed`, agentText(parsed.error.issues[0]?.message ?? ''));
    return parsed.data;
  }

  private requireStatus(ex: Exchange, expected: number[], what: string): void {
    if (expected.includes(ex.status)) return;
    const message = typeof ex.body === 'object' && ex.body !== null && 'message' in ex.body ? agentText(String((ex.body as { message: unknown }).message)) : '';
    throw new AgentAnswerError(`agent ${this.options.hostId} refused ${what} with ${ex.status}`, message);
  }

  private async withRetries(send: () => Promise<Exchange>, retries = this.opts.retries): Promise<Exchange> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (!(err instanceof HostUnreachableError) || attempt >= retries) throw err;
        await delay(this.opts.retryDelayMs * (attempt + 1));
      }
    }
  }

  private async exchange(method: 'GET' | 'POST', path: string, body: string | undefined, timeoutMs: number): Promise<Exchange> {
    const payload = body ?? '';
    const headers: Record<string, string> = { ...signRequest(this.options.secret, { method, path, body: payload }) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const hostId = this.options.hostId;
    const url = `${this.base}${path}`;
    const tooLarge = () => new AgentAnswerError(`agent ${hostId}: the answer to ${path} is larger than ${this.opts.maxAnswerBytes} bytes`);
    const redirected = (status: number) =>
      new AgentAnswerError(`agent ${hostId} answered ${path} with a redirect (${status}), which is not followed`);
    let status: number;
    let text: string;
    // One deadline for the answer and its body.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      if (this.options.tls) {
        const answer = await tlsExchange(url, { method, headers, body }, this.options.tls, timeoutMs, this.opts.maxAnswerBytes, tooLarge);
        status = answer.status;
        if (isRedirect(status)) throw redirected(status);
        text = answer.text;
      } else {
        const res = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
        status = res.status;
        if (isRedirect(status)) {
          await res.body?.cancel();
          throw redirected(status);
        }
        text = await readCapped(res, this.opts.maxAnswerBytes, tooLarge);
      }
    } catch (err) {
      if (err instanceof AgentAnswerError) throw err;
      throw unreachable(hostId, path, err);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new AgentAnswerError(`agent ${hostId}: ${path} answered ${status} with a body that is not JSON`);
    }
    return { status, body: parsed };
  }
}

/** A 3xx answer: never followed, since it would carry the signed headers to wherever the agent points. */
function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** The body as text, refused (the rest left unread) once it passes `max` bytes. */
async function readCapped(res: Response, max: number, tooLarge: () => Error): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The agent did not answer. `reason` says so in the driver's own words (what an API may show a
 * caller); the message adds the network's.
 */
export class AgentUnreachableError extends HostUnreachableError {
  constructor(
    message: string,
    readonly reason: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'AgentUnreachableError';
  }
}

function unreachable(hostId: string, path: string, err: unknown): HostUnreachableError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = e.name === 'TimeoutError';
  const code = e.cause?.code ?? (timedOut ? 'TIMEOUT' : undefined);
  const reason = `agent ${hostId} unreachable (${path}): ${timedOut ? 'no answer in time' : `no answer${code && /^[A-Z_]{1,32}$/.test(code) ? ` (${code})` : ''}`}`;
  const why = timedOut ? 'no answer in time' : agentText(e.cause?.message ?? e.message ?? String(err));
  return new AgentUnreachableError(`agent ${hostId} unreachable (${path}): ${why}`, reason, code);
}

/** Text from the other end as it may appear in an error: printable ASCII only, at most MAX_AGENT_TEXT characters. */
function agentText(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return printable.length > MAX_AGENT_TEXT ? `${printable.slice(0, MAX_AGENT_TEXT)}...` : printable;
}

function isRefused(err: HostUnreachableError): boolean {
  return err instanceof AgentUnreachableError && err.code === 'ECONNREFUSED';
}

function tail(lines: string[]): string {
  return lines.length === 0 ? '' : `\n${lines.slice(-20).join('\n')}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Builds one driver per host from the inventory's agent URL and that host's secret. */
export function createAgentHostDriverFactory(
  secretOf: ReadonlyMap<string, Buffer> | ((hostId: string) => Buffer | undefined),
  defaults: Omit<AgentHostDriverOptions, 'url' | 'hostId' | 'secret'> = {},
): (host: { hostId: string; url: string; tls?: AgentTls }) => AgentHostDriver {
  const lookup = typeof secretOf === 'function' ? secretOf : (hostId: string) => secretOf.get(hostId);
  return ({ hostId, url, tls }) => {
    const secret = lookup(hostId);
    if (!secret) throw new Error(`no agent secret for host ${hostId}`);
    return new AgentHostDriver({ ...defaults, url, hostId, secret, ...(tls ? { tls } : {}) });
  };
}
