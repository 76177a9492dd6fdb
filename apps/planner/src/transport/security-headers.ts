import type { IncomingMessage, ServerResponse } from 'node:http';

/** The API answers JSON: nothing in it may load anything, be framed, or be sniffed as another type. */
const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The OpenAPI page (Swagger UI) loads its own scripts and styles, and inline styles and data: icons. */
const DOCS_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Express middleware setting the response headers every answer carries (helmet's defaults, for what the planner serves). */
export function securityHeaders(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const docs = req.url === '/docs' || req.url?.startsWith('/docs/') || req.url?.startsWith('/docs?');
  res.setHeader('Content-Security-Policy', docs ? DOCS_POLICY : API_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  next();
}
