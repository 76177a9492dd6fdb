import { describe, expect, it } from 'vitest';
import { SeenNonces } from './seen-nonces';

describe('SeenNonces', () => {
  it('admits a nonce once within the window and forgets it once its timestamp could only be stale', () => {
    const nonces = new SeenNonces(60_000);
    const t = 1_000_000;
    expect(nonces.admit('a'.repeat(32), t, t)).toBe(true);
    expect(nonces.admit('a'.repeat(32), t, t + 59_999)).toBe(false);
    expect(nonces.admit('b'.repeat(32), t, t + 1)).toBe(true);
    // After timestamp + window the signature check refuses it as stale, so it need not be remembered.
    expect(nonces.admit('c'.repeat(32), t + 60_001, t + 60_001)).toBe(true);
    expect(nonces.size).toBe(1);
  });

  it('keeps a request signed in the future until its own timestamp has aged out', () => {
    const nonces = new SeenNonces(60_000);
    expect(nonces.admit('d'.repeat(32), 150_000, 100_000)).toBe(true);
    expect(nonces.admit('d'.repeat(32), 150_000, 200_000)).toBe(false);
    expect(nonces.admit('d'.repeat(32), 150_000, 210_001)).toBe(true);
  });
});
