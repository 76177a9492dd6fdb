import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiPrincipal } from './auth-tokens';
import type { AuditTarget } from '../audit/audit-log';

/*
 * The parts of Express's request and response the planner uses (there is no @types/express in the
 * tree, and these few fields are all we rely on).
 */

export interface ApiRequest extends IncomingMessage {
  method: string;
  originalUrl: string;
  path: string;
  body?: unknown;
  /** Set by the auth guard once the bearer token checked out and its role suffices. */
  principal?: ApiPrincipal;
  /** Set by the auth guard when it refused the request: why, and who, if the token was valid. */
  refusal?: AuthRefusal;
  /** Set by a handler that knows better than the path what it acted on. */
  auditTarget?: AuditTarget;
}

/** Why the auth guard refused a request (kept apart from what authorized callers did; see the audit). */
export type AuthRefusalReason = 'missing-token' | 'malformed-header' | 'invalid-token' | 'forbidden' | 'rate-limited';

export interface AuthRefusal {
  reason: AuthRefusalReason;
  /** The token's name when the token was valid but its role too small. */
  actor?: string;
}

export interface ApiResponse extends ServerResponse {
  status(code: number): this;
  json(body: unknown): this;
}

export type NextFunction = (err?: unknown) => void;
