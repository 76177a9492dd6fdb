import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGNATURE_WINDOW_MS, verifyRequest } from '@luo-fleet/handover';
import { SeenNonces } from './seen-nonces';

const MAX_BODY_BYTES = 1024 * 1024;

type Request = IncomingMessage & { body?: unknown; originalUrl?: string };
type Next = (err?: unknown) => void;

/**
 * Express middleware in front of every route: reads the raw body (the MAC covers its bytes),
 * refuses unsigned, forged, stale and replayed requests with 401 before any route runs, and only
 * then parses the JSON body (400 naming `body` when it is not JSON).
 */
export function signedRequests(secret: Buffer, options: { windowMs?: number; clock?: () => number } = {}) {
  const windowMs = options.windowMs ?? SIGNATURE_WINDOW_MS;
  const clock = options.clock ?? Date.now;
  const nonces = new SeenNonces(windowMs);

  return (req: Request, res: ServerResponse, next: Next): void => {
    readBody(req)
      .then((raw) => {
        if (raw === 'too_large') return reply(res, 413, 'Payload Too Large', `the body exceeds ${MAX_BODY_BYTES} bytes`);
        const path = req.originalUrl ?? req.url ?? '/';
        const now = clock();
        const verdict = verifyRequest(secret, { method: req.method ?? 'GET', path, body: raw }, req.headers, now, windowMs);
        if (!verdict.ok) return reply(res, 401, 'Unauthorized', `${verdict.problem === 'mismatch' ? 'bad' : verdict.problem} signature: ${verdict.detail}`);
        if (!nonces.admit(verdict.nonce, verdict.timestamp, now)) {
          return reply(res, 401, 'Unauthorized', 'replayed request: this nonce was already used');
        }
        if (raw.length === 0) {
          req.body = undefined;
          return next();
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

function readBody(req: Request): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, error: string, message: string, issues?: { field: string; problem: string }[]): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ statusCode: status, error, message, ...(issues ? { issues } : {}) }));
}
