/** The planner's HTTP API as the CLI uses it: JSON in and out, every failure a typed, one-line error. */

export const DEFAULT_API = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 30_000;

interface ApiIssue {
  field: string;
  problem: string;
}

/** Something the CLI reports and exits on: one line on stderr, no stack. */
export abstract class CliFailure extends Error {
  abstract readonly exitCode: number;
}

/**
 * The planner refused (4xx: exit 2, the request was wrong) or failed (5xx: exit 1). The message
 * leads with the status and names each wrong field: `400 maxConcurrent: must be at least 1`.
 */
export class ApiError extends CliFailure {
  override name = 'ApiError';
  readonly exitCode: number;

  constructor(
    readonly status: number,
    readonly body: { message?: string; issues?: ApiIssue[] } | null,
  ) {
    const detail = body?.issues?.length ? body.issues.map((i) => `${i.field}: ${i.problem}`).join('; ') : (body?.message ?? 'no details');
    super(`${status} ${detail}`);
    this.exitCode = status >= 400 && status < 500 ? 2 : 1;
  }
}

/** No answer at all (refused, DNS, timeout) or not the planner's JSON: exit 1. */
export class ApiUnreachable extends CliFailure {
  override name = 'ApiUnreachable';
  readonly exitCode = 1;
}

/** Bad --api URL and the like: the command line is wrong (exit 2). */
export class ApiUsageError extends CliFailure {
  override name = 'ApiUsageError';
  readonly exitCode = 2;
}

export interface ApiClientOptions {
  api: string;
  token?: string;
}

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

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', path, { query }).then((r) => r.body);
  }

  post<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    return this.request<T>('POST', path, { body, headers });
  }

  private async request<T>(
    method: string,
    path: string,
    opts: { query?: Record<string, string | number | undefined>; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
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
      const shaped = typeof body === 'object' && body !== null ? (body as { message?: string; issues?: ApiIssue[] }) : { message: text.slice(0, 200) || res.statusText };
      if (res.status === 401 && !this.opts.token) shaped.message = `${shaped.message ?? 'unauthorized'} (set --token or LUO_FLEET_TOKEN)`;
      throw new ApiError(res.status, shaped);
    }
    return { status: res.status, body: body as T };
  }
}
