import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** `viewer` reads; `operator` also creates and controls. */
export const API_ROLES = ['viewer', 'operator'] as const;
export type ApiRole = (typeof API_ROLES)[number];

const ROLE_RANK: Record<ApiRole, number> = { viewer: 0, operator: 1 };

export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return ROLE_RANK[held] >= ROLE_RANK[needed];
}

/** Who presented a valid token. */
export interface ApiPrincipal {
  name: string;
  role: ApiRole;
}

/** One configured token: only its SHA-256 is ever kept. */
export interface TokenGrant extends ApiPrincipal {
  /** Lower-case hex SHA-256 of the bearer token. */
  sha256: string;
}

/** A token configuration that cannot be used, with where it came from. */
export class TokenConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = 'TokenConfigError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function checkGrant(source: string, name: unknown, role: unknown): ApiPrincipal {
  if (typeof name !== 'string' || !NAME.test(name)) throw new TokenConfigError(source, `name ${JSON.stringify(name)} is not 1-64 of A-Z a-z 0-9 _ . @ -`);
  if (typeof role !== 'string' || !(API_ROLES as readonly string[]).includes(role)) {
    throw new TokenConfigError(source, `role ${JSON.stringify(role)} of ${name} is not one of ${API_ROLES.join(', ')}`);
  }
  return { name, role: role as ApiRole };
}

/** `[{ "name": "alice", "role": "operator", "sha256": "<hex>" }]` as found in LUO_FLEET_TOKENS_FILE. */
export function parseTokenFile(text: string, source = 'token file'): TokenGrant[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TokenConfigError(source, `not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new TokenConfigError(source, 'expected a JSON array of {name, role, sha256}');
  return raw.map((entry: unknown, i) => {
    const where = `${source}[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new TokenConfigError(where, 'expected an object {name, role, sha256}');
    const { name, role, sha256 } = entry as Record<string, unknown>;
    const principal = checkGrant(where, name, role);
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256.toLowerCase())) {
      throw new TokenConfigError(where, 'sha256 must be 64 hex digits');
    }
    return { ...principal, sha256: sha256.toLowerCase() };
  });
}

/** `name:role:token,...` as found in LUO_FLEET_TOKENS; the tokens are hashed here and not kept. */
export function parseTokenList(text: string, source = 'LUO_FLEET_TOKENS'): TokenGrant[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part, i) => {
      const where = `${source} entry ${i + 1}`;
      const first = part.indexOf(':');
      const second = first < 0 ? -1 : part.indexOf(':', first + 1);
      if (second < 0) throw new TokenConfigError(where, 'expected name:role:token');
      const principal = checkGrant(where, part.slice(0, first), part.slice(first + 1, second));
      const token = part.slice(second + 1);
      if (token.length < 16) throw new TokenConfigError(where, `token of ${principal.name} is shorter than 16 characters`);
      return { ...principal, sha256: sha256Hex(token) };
    });
}

/**
 * The bearer tokens the API accepts. Lookup hashes the presented token and compares it with every
 * stored hash in constant time, so neither a match's position nor a near-miss shows in the timing.
 */
export class TokenStore {
  private readonly grants: ReadonlyArray<{ principal: ApiPrincipal; digest: Buffer }>;

  constructor(grants: readonly TokenGrant[]) {
    const seen = new Set<string>();
    for (const grant of grants) {
      if (seen.has(grant.sha256)) throw new TokenConfigError('tokens', `two grants share one token (second is ${grant.name})`);
      seen.add(grant.sha256);
    }
    this.grants = grants.map((g) => ({ principal: { name: g.name, role: g.role }, digest: Buffer.from(g.sha256, 'hex') }));
  }

  /** From LUO_FLEET_TOKENS_FILE and/or LUO_FLEET_TOKENS. */
  static fromSources(sources: { file?: string; list?: string }): TokenStore {
    const grants: TokenGrant[] = [];
    if (sources.file) {
      let text: string;
      try {
        text = readFileSync(sources.file, 'utf8');
      } catch (err) {
        throw new TokenConfigError(sources.file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      grants.push(...parseTokenFile(text, sources.file));
    }
    if (sources.list) grants.push(...parseTokenList(sources.list));
    return new TokenStore(grants);
  }

  get size(): number {
    return this.grants.length;
  }

  principalFor(token: string): ApiPrincipal | null {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: ApiPrincipal | null = null;
    for (const grant of this.grants) {
      if (timingSafeEqual(grant.digest, digest) && found === null) found = grant.principal;
    }
    return found;
  }
}
