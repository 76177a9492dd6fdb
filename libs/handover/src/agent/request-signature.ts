import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How the orchestrator proves itself to a host agent: an HMAC-SHA256, with the host's own secret,
 * over `METHOD \n path \n sha256(body) \n timestamp \n nonce`. The timestamp bounds how long a
 * captured request stays usable; the nonce makes it usable once. Shared by the driver (signs) and
 * the agent (verifies) so that the two can never disagree on the canonical form.
 */
export const SIGNATURE_HEADERS = {
  timestamp: 'x-luo-timestamp',
  nonce: 'x-luo-nonce',
  signature: 'x-luo-signature',
} as const;

/** Requests signed further than this from the agent's clock are refused (and nonces remembered this long). */
export const SIGNATURE_WINDOW_MS = 60_000;

const NONCE = /^[0-9a-f]{32,128}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,16}$/;

/** A secret file's bytes without trailing whitespace, so `echo`/`openssl rand -hex 32 >` files work on both ends. */
export function secretFromFileContent(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  return Buffer.from(bytes.subarray(0, end));
}

export interface SignedRequestParts {
  method: string;
  /** Path and query exactly as sent on the request line, e.g. `/v1/steps/preserve`. */
  path: string;
  body: Buffer | string;
}

export type SignatureHeaders = Record<(typeof SIGNATURE_HEADERS)[keyof typeof SIGNATURE_HEADERS], string>;

export function canonicalRequest(parts: SignedRequestParts, timestamp: string, nonce: string): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return [parts.method.toUpperCase(), parts.path, bodyHash, timestamp, nonce].join('\n');
}

function mac(secret: Buffer, canonical: string): Buffer {
  return createHmac('sha256', secret).update(canonical).digest();
}

export function signRequest(secret: Buffer, parts: SignedRequestParts, now: number = Date.now()): SignatureHeaders {
  const timestamp = String(Math.floor(now));
  const nonce = randomBytes(16).toString('hex');
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: mac(secret, canonicalRequest(parts, timestamp, nonce)).toString('hex'),
  };
}

export type SignatureVerdict =
  | { ok: true; nonce: string; timestamp: number }
  | { ok: false; problem: 'missing' | 'malformed' | 'stale' | 'mismatch'; detail: string };

/**
 * Checks headers and MAC; whether the nonce was already seen is the caller's memory to keep (see the
 * agent's SeenNonces). The MAC is checked before anything is remembered, so unauthenticated
 * requests cannot fill that memory.
 */
export function verifyRequest(
  secret: Buffer,
  parts: SignedRequestParts,
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
  windowMs: number = SIGNATURE_WINDOW_MS,
): SignatureVerdict {
  const timestamp = single(headers[SIGNATURE_HEADERS.timestamp]);
  const nonce = single(headers[SIGNATURE_HEADERS.nonce]);
  const signature = single(headers[SIGNATURE_HEADERS.signature]);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    return { ok: false, problem: 'missing', detail: `the request needs ${Object.values(SIGNATURE_HEADERS).join(', ')}` };
  }
  if (!TIMESTAMP.test(timestamp)) return { ok: false, problem: 'malformed', detail: `${SIGNATURE_HEADERS.timestamp} must be milliseconds since the epoch` };
  if (!NONCE.test(nonce)) return { ok: false, problem: 'malformed', detail: `${SIGNATURE_HEADERS.nonce} must be 32-128 lower-case hex digits` };
  if (!SIGNATURE.test(signature)) return { ok: false, problem: 'malformed', detail: `${SIGNATURE_HEADERS.signature} must be 64 lower-case hex digits` };
  const expected = mac(secret, canonicalRequest(parts, timestamp, nonce));
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return { ok: false, problem: 'mismatch', detail: 'signature does not match' };
  }
  // Judged only after the MAC: a forged timestamp must not learn anything about the agent's clock.
  const ts = Number(timestamp);
  if (Math.abs(now - ts) > windowMs) {
    return { ok: false, problem: 'stale', detail: `signed ${Math.round((now - ts) / 1000)} s away from the agent's clock (limit ${windowMs / 1000} s)` };
  }
  return { ok: true, nonce, timestamp: ts };
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}
