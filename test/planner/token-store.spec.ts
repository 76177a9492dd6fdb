import { parseTokenFile, parseTokenList, roleAllows, sha256Hex, TokenConfigError, TokenStore } from '../../apps/planner/src/auth/auth-tokens';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('token store', () => {
  it('keeps only hashes and finds the grant of a presented token', () => {
    const grants = parseTokenList('alice:operator:alice-secret-token-1, bob:viewer:bob-secret-token-22');
    expect(grants.map((g) => ({ ...g }))).toEqual([
      { name: 'alice', role: 'operator', sha256: sha256Hex('alice-secret-token-1') },
      { name: 'bob', role: 'viewer', sha256: sha256Hex('bob-secret-token-22') },
    ]);
    expect(JSON.stringify(grants)).not.toMatch(/secret/);
    const store = new TokenStore(grants);
    expect(store.principalFor('bob-secret-token-22')).toEqual({ name: 'bob', role: 'viewer' });
    expect(store.principalFor('alice-secret-token-1')).toEqual({ name: 'alice', role: 'operator' });
    expect(store.principalFor('alice-secret-token-')).toBeNull();
    expect(store.principalFor('')).toBeNull();
  });

  it('accepts a token containing colons (only the first two separate fields)', () => {
    const [grant] = parseTokenList('svc:viewer:abc:def:ghi:0123456789');
    expect(grant.sha256).toBe(sha256Hex('abc:def:ghi:0123456789'));
  });

  it.each([
    ['alice:admin:0123456789abcdef', /role "admin"/],
    ['alice:operator', /name:role:token/],
    ['alice:operator:short', /shorter than 16/],
    [' :viewer:0123456789abcdef', /name/],
  ])('refuses %j', (text, problem) => {
    expect(() => parseTokenList(text)).toThrow(problem);
  });

  it('reads a token file of hashes and refuses a malformed one naming the entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'luo-tokens-'));
    try {
      const file = join(dir, 'tokens.json');
      writeFileSync(file, JSON.stringify([{ name: 'ci', role: 'operator', sha256: sha256Hex('ci-token-0123456789').toUpperCase() }]));
      const store = TokenStore.fromSources({ file, list: 'bob:viewer:bob-secret-token-22' });
      expect(store.size).toBe(2);
      expect(store.principalFor('ci-token-0123456789')).toEqual({ name: 'ci', role: 'operator' });
      expect(() => parseTokenFile('[{"name":"x","role":"viewer","sha256":"abc"}]', 'f.json')).toThrow(/f\.json\[0\]: sha256 must be 64 hex/);
      expect(() => parseTokenFile('{', 'f.json')).toThrow(TokenConfigError);
      expect(() => TokenStore.fromSources({ file: join(dir, 'missing.json') })).toThrow(/cannot read \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses two grants sharing one token', () => {
    expect(() => new TokenStore(parseTokenList('a:viewer:same-token-0123456,b:operator:same-token-0123456'))).toThrow(/share one token/);
  });

  it('orders roles: operator does what viewer does, not the reverse', () => {
    expect(roleAllows('operator', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('viewer', 'viewer')).toBe(true);
  });
});
