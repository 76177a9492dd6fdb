import { sleep } from './seeded';

/** The planner's HTTP API as the chaos run uses it; retries while the planner is being restarted. */
export class PlannerApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, retryForMs = 60_000): Promise<T> {
    const deadline = Date.now() + retryForMs;
    for (;;) {
      let status = 0;
      let text: string;
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(120_000),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        text = (err as Error).message;
      }
      if (status >= 200 && status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
      // Unreachable (restarting) or 503 (Redis away) may pass; anything else is an answer.
      if ((status !== 0 && status !== 503) || Date.now() > deadline) throw new Error(`${method} ${path}: HTTP ${status || 'unreachable'}: ${text.slice(0, 300)}`);
      await sleep(200);
    }
  }
}

export async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer healthy within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}
