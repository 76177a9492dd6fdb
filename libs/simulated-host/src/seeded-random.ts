/**
 * Deterministic randomness for the simulated fleet: every draw is keyed by what it is for (seed,
 * host, step, call number), so two worker processes that simulate the same host draw the same
 * numbers, and a run can be replayed from its seed. Never Math.random.
 */

export type SeedPart = string | number;

/** cyrb128: four 32-bit hashes of a string, enough state to seed sfc32. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function keyOf(parts: readonly SeedPart[]): string {
  // A separator that cannot occur in host ids or step names keeps ("a","bc") apart from ("ab","c").
  return parts.map(String).join('\u0000');
}

/** A uniform [0, 1) stream (sfc32) seeded by the parts. */
export function seededRandom(...parts: SeedPart[]): () => number {
  let [a, b, c, d] = cyrb128(keyOf(parts));
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** 128 bits rendered as a UUID-shaped id (like /proc/sys/kernel/random/boot_id). */
export function seededUuid(...parts: SeedPart[]): string {
  const hex = cyrb128(keyOf(parts))
    .map((n) => n.toString(16).padStart(8, '0'))
    .join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A log-normal draw with the given median and 99th percentile: step latencies have a long right
 * tail (one VMM in a hundred takes much longer to preserve), which a normal draw would not give.
 */
export function logNormal(random: () => number, medianMs: number, p99Ms: number): number {
  if (medianMs <= 0) return 0;
  const Z99 = 2.3263478740408408;
  const sigma = p99Ms > medianMs ? Math.log(p99Ms / medianMs) / Z99 : 0;
  const u1 = Math.max(random(), Number.MIN_VALUE);
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  // Capped so one unlucky draw cannot stall a demo: four times p99 is already far in the tail.
  return Math.min(medianMs * Math.exp(sigma * z), Math.max(p99Ms, medianMs) * 4);
}
