import type { HostResult, RolloutView } from '@luo-fleet/store';
import type { RolloutPlanSummary } from '../../planner/src/rollouts/rollout-creation';
import type { Rollout } from '@luo-fleet/rollout';
import { ApiError, ApiUnreachable, ApiUsageError, type ApiErrorBody } from './api-errors';

/** The planner's HTTP API as the CLI uses it: JSON in and out, every failure a typed, one-line error (api-errors.ts). */

export const DEFAULT_API = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 1_000;
/** The most hosts GET /v1/rollouts/:id/hosts returns a page. */
const MAX_HOSTS_PAGE = 1000;

export interface ApiClientOptions {
  api: string;
  token?: string;
}

/** 201 (or 200 for a dry run or a repeated Idempotency-Key) of POST /v1/rollouts. */
export interface RolloutCreated {
  dryRun: boolean;
  rollout: Rollout;
  plan: RolloutPlanSummary;
}

export type RolloutAction = 'pause' | 'resume' | 'approve' | 'abort';

export interface HostsPage {
  hosts: HostResult[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly opts: ApiClientOptions) {
    try {
      this.base = new URL(opts.api.endsWith('/') ? opts.api : `${opts.api}/`);
    } catch {
      throw new ApiUsageError(`--api ${JSON.stringify(opts.api)} is not a URL (e.g. http://127.0.0.1:8080)`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new ApiUsageError(`--api must be an http:// or https:// URL, got ${opts.api}`);
  }

  /** Whether GET /health answers 2xx within a second (the planner's and the metrics exporter's). */
  isHealthy(): Promise<boolean> {
    return this.request('GET', '/health', { timeoutMs: HEALTH_TIMEOUT_MS }).then(
      () => true,
      () => false,
    );
  }

  /** POST /v1/hosts:batch: registers (or replaces) up to 1000 hosts. */
  registerHosts(hosts: unknown[]): Promise<{ created: number; replaced: number }> {
    return this.request('POST', '/v1/hosts:batch', { body: { hosts } });
  }

  createRollout(request: unknown, idempotencyKey?: string): Promise<RolloutCreated> {
    const headers: Record<string, string> = idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey };
    return this.request('POST', '/v1/rollouts', { body: request, headers });
  }

  /** Rollouts, newest first. */
  async listRollouts(limit: number): Promise<RolloutView[]> {
    return (await this.request<{ rollouts: RolloutView[] }>('GET', '/v1/rollouts', { query: { limit } })).rollouts;
  }

  rollout(id: string): Promise<RolloutView> {
    return this.request('GET', rolloutPath(id));
  }

  rolloutAction(id: string, action: RolloutAction): Promise<{ id: string; status: string }> {
    return this.request('POST', rolloutPath(id, `/${action}`));
  }

  /** One page of the rollout's hosts; `nextCursor` null on the last. */
  rolloutHostsPage(id: string, query: { state?: string; limit?: number; cursor?: string }): Promise<HostsPage> {
    return this.request('GET', rolloutPath(id, '/hosts'), { query });
  }

  /** Every host of the rollout in one state, following nextCursor to the end, each host once. */
  async allRolloutHosts(id: string, state: string): Promise<HostResult[]> {
    const all: HostResult[] = [];
    let cursor: string | null = null;
    do {
      const page: HostsPage = await this.rolloutHostsPage(id, { state, limit: MAX_HOSTS_PAGE, cursor: cursor ?? undefined });
      all.push(...page.hosts);
      cursor = page.nextCursor ?? null;
    } while (cursor !== null);
    // SSCAN may return a member twice across pages.
    return [...new Map(all.map((h) => [h.hostId, h])).values()];
  }

  private async request<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new ApiUnreachable(`cannot reach the planner at ${this.base.origin}: ${why}`);
    }
    const text = await res.text().catch(() => '');
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      if (res.ok) throw new ApiUnreachable(`${url.origin} answered ${method} ${url.pathname} with something other than JSON: is --api the planner?`);
    }
    if (!res.ok) {
      const shaped: ApiErrorBody = typeof body === 'object' && body !== null ? (body as ApiErrorBody) : { message: text.slice(0, 200) || res.statusText };
      if (res.status === 401 && !this.opts.token) shaped.message = `${shaped.message ?? 'unauthorized'} (set --token or LUO_FLEET_TOKEN)`;
      throw new ApiError(res.status, shaped);
    }
    return body as T;
  }
}

const rolloutPath = (id: string, rest = '') => `/v1/rollouts/${encodeURIComponent(id)}${rest}`;
