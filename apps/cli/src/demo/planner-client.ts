import { DemoInfrastructureError } from './demo-processes';

/** GET /v1/rollouts/:id (fields the demo reads). */
export interface RolloutStatusView {
  id: string;
  status: string;
  statusReason?: string;
  hostCount: number;
  limits: { maxConcurrent: number; maxFailures: number; batches: number[] };
  batch: number;
  inflight: number;
  failures: number;
  finished: number;
  finishedAt?: number;
  hostsByState: Record<string, number>;
}

/** 201 of POST /v1/rollouts (fields the demo reads). */
export interface RolloutCreated {
  rollout: { id: string; hostCount: number; status: string; limits: RolloutStatusView['limits'] };
  plan: { hosts: number; eligible: number; skipped: number; skippedByReason: Record<string, number> };
}

export interface RolloutHostResult {
  hostId: string;
  state: string;
  outcome?: string;
  phase?: string;
  reasons?: string[];
  error?: string;
}

/** The planner's HTTP API as the demo uses it, with the demo's operator token. */
export class PlannerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new DemoInfrastructureError(`${method} ${path}: planner unreachable (${(err as Error).message})`);
    }
    const text = await res.text();
    if (!res.ok) {
      const hint = res.status === 404 && path.startsWith('/v1/rollouts') ? ' (this planner build has no rollout API yet)' : '';
      throw new DemoInfrastructureError(`${method} ${path}: HTTP ${res.status}${hint}: ${text.slice(0, 300)}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  registerHosts(hosts: unknown[]): Promise<{ created: number; replaced: number }> {
    return this.call('POST', '/v1/hosts:batch', { hosts });
  }

  createRollout(request: unknown): Promise<RolloutCreated> {
    return this.call('POST', '/v1/rollouts', request);
  }

  rollout(id: string): Promise<RolloutStatusView> {
    return this.call('GET', `/v1/rollouts/${encodeURIComponent(id)}`);
  }

  /** Every host of the rollout in one state, following nextCursor to the end. */
  async rolloutHosts(id: string, state: string): Promise<RolloutHostResult[]> {
    const all: RolloutHostResult[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ state, limit: '1000', ...(cursor === null ? {} : { cursor }) });
      const page: { hosts: RolloutHostResult[]; nextCursor: string | null } = await this.call('GET', `/v1/rollouts/${encodeURIComponent(id)}/hosts?${query}`);
      all.push(...page.hosts);
      cursor = page.nextCursor ?? null;
    } while (cursor !== null);
    // SSCAN may return a member twice across pages.
    return [...new Map(all.map((h) => [h.hostId, h])).values()];
  }
}

/** Polls `url` until it answers 2xx; gives up after `timeoutMs` or when `gaveUp()` says so. */
export async function waitForHealthy(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) return;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new DemoInfrastructureError(`${url} did not answer healthy within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
