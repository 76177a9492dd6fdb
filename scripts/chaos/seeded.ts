/** mulberry32: a small PRNG so that a seed replays the same disruption schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function between(random: () => number, lo: number, hi: number): number {
  return lo + random() * (hi - lo);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
