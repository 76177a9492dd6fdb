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
  /** Set by the auth guard once the bearer token checked out. */
  principal?: ApiPrincipal;
  /** Set by a handler that knows better than the path what it acted on. */
  auditTarget?: AuditTarget;
}

export interface ApiResponse extends ServerResponse {
  status(code: number): this;
  json(body: unknown): this;
}

export type NextFunction = (err?: unknown) => void;
