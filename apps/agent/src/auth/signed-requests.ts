import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGNATURE_WINDOW_MS, verifyRequest } from '@luo-fleet/handover';
import type { HttpLimits } from '../config/agent-config';
import { nestsDeeperThan, readRequestBody } from '../http/request-body';
import { AuthFailures } from './auth-failures';
import { SeenNonces } from './seen-nonces';

type Request = IncomingMessage & { body?: unknown; originalUrl?: string };
type Next = (err?: unknown) => void;
type Limits = Pick<HttpLimits, 'maxBodyBytes' | 'maxJsonDepth' | 'bodyTimeoutMs' | 'bodyIdleMs' | 'authFailureBurst' | 'authFailureRefillMs'>;

/**
 * Express middleware in front of every route: refuses a client address that failed to
 * authenticate too often (429), reads the raw body within its limits (the MAC covers its bytes),
 * refuses unsigned, forged, stale and replayed requests with 401 before any route runs, and only
 * then parses the JSON body (400 naming `body` when it is not JSON or nests too deep).
 */
export function signedRequests(secret: Buffer, limits: Limits, options: { windowMs?: number; clock?: () => number } = {}) {
  const windowMs = options.windowMs ?? SIGNATURE_WINDOW_MS;
  const clock = options.clock ?? Date.now;
  const nonces = new SeenNonces(windowMs);
  const failures = new AuthFailures(limits.authFailureBurst, limits.authFailureRefillMs);

  return (req: Request, res: ServerResponse, next: Next): void => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const waitMs = failures.retryAfterMs(address, clock());
    if (waitMs > 0) {
      res.setHeader('retry-after', String(Math.ceil(waitMs / 1000)));
      return closing(res, () => reply(res, 429, 'Too Many Requests', `too many failed authentications from ${address}; retry later`));
    }
    readRequestBody(req, limits)
      .then((read) => {
        if (!read.ok) return closing(res, () => reply(res, read.status, read.status === 413 ? 'Payload Too Large' : 'Request Timeout', read.problem));
        const raw = read.raw;
        const path = req.originalUrl ?? req.url ?? '/';
        const now = clock();
        const verdict = verifyRequest(secret, { method: req.method ?? 'GET', path, body: raw }, req.headers, now, windowMs);
        if (!verdict.ok) {
          failures.record(address, now);
          return reply(res, 401, 'Unauthorized', `${verdict.problem === 'mismatch' ? 'bad' : verdict.problem} signature: ${verdict.detail}`);
        }
        if (!nonces.admit(verdict.nonce, verdict.timestamp, now)) {
          failures.record(address, now);
          return reply(res, 401, 'Unauthorized', 'replayed request: this nonce was already used');
        }
        if (raw.length === 0) {
          req.body = undefined;
          return next();
        }
        if (nestsDeeperThan(raw, limits.maxJsonDepth)) {
          const problem = `nested deeper than ${limits.maxJsonDepth} levels`;
          return reply(res, 400, 'Bad Request', `body: ${problem}`, [{ field: 'body', problem }]);
        }
        try {
          req.body = JSON.parse(raw.toString('utf8'));
        } catch {
          return reply(res, 400, 'Bad Request', 'body: not valid JSON', [{ field: 'body', problem: 'not valid JSON' }]);
        }
        next();
      })
      .catch(next);
  };
}

/** Answers and then drops the connection: what the client still sends is not read. */
function closing(res: ServerResponse, answer: () => void): void {
  res.setHeader('connection', 'close');
  res.on('finish', () => res.socket?.destroySoon());
  answer();
}

function reply(res: ServerResponse, status: number, error: string, message: string, issues?: { field: string; problem: string }[]): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ statusCode: status, error, message, ...(issues ? { issues } : {}) }));
}
