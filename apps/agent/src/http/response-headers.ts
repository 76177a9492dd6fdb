import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Headers every answer carries: its JSON is never to be sniffed into something else or cached.
 * (X-Powered-By is switched off on the Express instance itself.)
 */
export function responseHeaders(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('cache-control', 'no-store');
  next();
}
