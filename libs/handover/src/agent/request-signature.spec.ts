import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SIGNATURE_HEADERS, secretFromFileContent, signRequest, verifyRequest } from './request-signature';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const parts = { method: 'POST', path: '/v1/steps/preserve', body: '{"requestId":"h/preserve"}' };
const NOW = 1_800_000_000_000;

describe('request signature', () => {
  it('verifies what it signed, for any method, path and body', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST'), fc.string(), fc.uint8Array({ maxLength: 256 }), (method, path, body) => {
        const p = { method, path: `/${path}`, body: Buffer.from(body) };
        const verdict = verifyRequest(secret, p, signRequest(secret, p, NOW), NOW);
        expect(verdict.ok).toBe(true);
      }),
    );
  });

  it('refuses a change to any signed part', () => {
    const headers = signRequest(secret, parts, NOW);
    const changed = [
      { ...parts, method: 'GET' },
      { ...parts, path: '/v1/steps/kexec' },
      { ...parts, body: '{"requestId":"h/kexec"}' },
    ];
    for (const p of changed) expect(verifyRequest(secret, p, headers, NOW)).toMatchObject({ ok: false, problem: 'mismatch' });
    const otherNonce = { ...headers, [SIGNATURE_HEADERS.nonce]: 'f'.repeat(32) };
    expect(verifyRequest(secret, parts, otherNonce, NOW)).toMatchObject({ ok: false, problem: 'mismatch' });
    const otherTime = { ...headers, [SIGNATURE_HEADERS.timestamp]: String(NOW + 1) };
    expect(verifyRequest(secret, parts, otherTime, NOW)).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(verifyRequest(Buffer.from('another secret of enough length'), parts, headers, NOW)).toMatchObject({ ok: false, problem: 'mismatch' });
  });

  it('refuses requests signed more than 60 s away from the verifier clock', () => {
    const headers = signRequest(secret, parts, NOW);
    expect(verifyRequest(secret, parts, headers, NOW + 60_000).ok).toBe(true);
    expect(verifyRequest(secret, parts, headers, NOW - 60_000).ok).toBe(true);
    expect(verifyRequest(secret, parts, headers, NOW + 60_001)).toMatchObject({ ok: false, problem: 'stale' });
    expect(verifyRequest(secret, parts, headers, NOW - 60_001)).toMatchObject({ ok: false, problem: 'stale' });
  });

  it('names missing and malformed headers', () => {
    const headers = signRequest(secret, parts, NOW);
    expect(verifyRequest(secret, parts, {}, NOW)).toMatchObject({ ok: false, problem: 'missing' });
    expect(verifyRequest(secret, parts, { ...headers, [SIGNATURE_HEADERS.signature]: 'zz' }, NOW)).toMatchObject({ ok: false, problem: 'malformed' });
    expect(verifyRequest(secret, parts, { ...headers, [SIGNATURE_HEADERS.timestamp]: '-1' }, NOW)).toMatchObject({ ok: false, problem: 'malformed' });
    expect(verifyRequest(secret, parts, { ...headers, [SIGNATURE_HEADERS.nonce]: ['a', 'b'] }, NOW)).toMatchObject({ ok: false, problem: 'missing' });
  });

  it('reads a secret file without its trailing newline', () => {
    expect(secretFromFileContent(Buffer.from('abc123\r\n \n')).toString()).toBe('abc123');
    expect(secretFromFileContent(Buffer.from(' abc')).toString()).toBe(' abc');
  });
});
