import { parseHostTopology, parseVms, type HostTopology, type Vm } from '@luo-fleet/topology';
import type { z } from 'zod';
import {
  HostUnreachableError,
  KexecReturnedError,
  StepFailedError,
  type HostDriver,
  type HostIdentity,
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
import { signRequest } from './request-signature';

export interface AgentHostDriverOptions {
  /** Base URL of the host's agent, e.g. `https://hv-0042.mgmt:7450`. */
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
}

const DEFAULTS = { timeoutMs: 10_000, stepTimeoutMs: 15 * 60_000, retries: 3, retryDelayMs: 1_000 };

/** The agent answered, but not with something this driver understands or accepts. */
class AgentAnswerError extends StepFailedError {}

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
    this.base = options.url.replace(/\/+$/, '');
    if (options.tls && !this.base.startsWith('https://')) {
      throw new StepFailedError(`agent ${options.hostId}: mutual TLS is configured but its url ${options.url} is not https://`);
    }
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      stepTimeoutMs: options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
    };
  }

  async identity(): Promise<HostIdentity> {
    const answer = await this.read(AGENT_PATHS.identity, identityAnswerSchema);
    return { bootId: answer.bootId, kernelRelease: answer.kernelRelease, luoEnabled: answer.luoEnabled };
  }

  async topology(): Promise<HostTopology> {
    const ex = await this.withRetries(() => this.exchange('GET', AGENT_PATHS.topology, undefined, this.opts.timeoutMs));
    this.requireStatus(ex, [200], 'topology');
    try {
      return parseHostTopology(ex.body);
    } catch (err) {
      throw new AgentAnswerError(`agent ${this.options.hostId}: topology answer is not a valid HostTopology: ${(err as Error).message}`);
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
    return JSON.stringify(request);
  }

  private stepAnswer(ex: Exchange, step: AgentStep): StepAnswer {
    this.requireStatus(ex, [200, 202], step);
    const parsed = stepAnswerSchema.safeParse(ex.body);
    if (!parsed.success) throw new AgentAnswerError(`agent ${this.options.hostId}: ${step} answer malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  private async read<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    const ex = await this.withRetries(() => this.exchange('GET', path, undefined, this.opts.timeoutMs));
    this.requireStatus(ex, [200], path);
    const parsed = schema.safeParse(ex.body);
    if (!parsed.success) throw new AgentAnswerError(`agent ${this.options.hostId}: ${path} answer malformed: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  private requireStatus(ex: Exchange, expected: number[], what: string): void {
    if (expected.includes(ex.status)) return;
    const message = typeof ex.body === 'object' && ex.body !== null && 'message' in ex.body ? String((ex.body as { message: unknown }).message) : '';
    throw new AgentAnswerError(`agent ${this.options.hostId} refused ${what} with ${ex.status}${message ? `: ${message}` : ''}`);
  }

  private async withRetries(send: () => Promise<Exchange>): Promise<Exchange> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (!(err instanceof HostUnreachableError) || attempt >= this.opts.retries) throw err;
        await delay(this.opts.retryDelayMs * (attempt + 1));
      }
    }
  }

  private async exchange(method: 'GET' | 'POST', path: string, body: string | undefined, timeoutMs: number): Promise<Exchange> {
    const payload = body ?? '';
    const headers: Record<string, string> = { ...signRequest(this.options.secret, { method, path, body: payload }) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: { status: number };
    let text: string;
    try {
      if (this.options.tls) {
        const answer = await tlsExchange(`${this.base}${path}`, { method, headers, body }, this.options.tls, timeoutMs);
        res = answer;
        text = answer.text;
      } else {
        const answer = await fetch(`${this.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
        res = answer;
        text = await answer.text();
      }
    } catch (err) {
      throw unreachable(this.options.hostId, path, err);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new AgentAnswerError(`agent ${this.options.hostId}: ${path} answered ${res.status} with a body that is not JSON`);
    }
    return { status: res.status, body: parsed };
  }
}

class AgentUnreachableError extends HostUnreachableError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function unreachable(hostId: string, path: string, err: unknown): HostUnreachableError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? (e.name === 'TimeoutError' ? 'TIMEOUT' : undefined);
  const why = e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.message ?? e.message ?? String(err));
  return new AgentUnreachableError(`agent ${hostId} unreachable (${path}): ${why}`, code);
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
