import type { Bdf } from './model';

/** A PCI address that cannot be read, with the text and the reason. */
export class BdfError extends Error {
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`not a PCI address: ${JSON.stringify(input)} (${problem})`);
    this.name = 'BdfError';
  }
}

export interface BdfParts {
  domain: number;
  bus: number;
  device: number;
  fn: number;
}

// Domains wider than 4 hex digits exist (Intel VMD puts its child buses at 10000 and up).
const FULL = /^([0-9a-f]{4,}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f])$/i;
const SHORT = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f])$/i;

export function parseBdfParts(text: string): BdfParts {
  if (typeof text !== 'string') throw new BdfError(String(text), 'expected text');
  const trimmed = text.trim();
  let domain = '0000';
  let rest: string[];
  const full = FULL.exec(trimmed);
  if (full) {
    domain = full[1];
    rest = full.slice(2, 5);
  } else {
    const short = SHORT.exec(trimmed);
    if (!short) throw new BdfError(text, 'expected dddd:bb:dd.f or bb:dd.f in hex');
    rest = short.slice(1, 4);
  }
  const parts: BdfParts = {
    domain: parseInt(domain, 16),
    bus: parseInt(rest[0], 16),
    device: parseInt(rest[1], 16),
    fn: parseInt(rest[2], 16),
  };
  if (parts.domain > 0xffffffff) throw new BdfError(text, `domain ${domain} is out of range (at most ffffffff)`);
  if (parts.device > 0x1f) throw new BdfError(text, `device ${rest[1]} is out of range 00-1f`);
  if (parts.fn > 7) throw new BdfError(text, `function ${rest[2]} is out of range 0-7`);
  return parts;
}

export function formatBdf(parts: BdfParts): Bdf {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `${hex(parts.domain, 4)}:${hex(parts.bus, 2)}:${hex(parts.device, 2)}.${parts.fn}`;
}

/** Canonical lower-case full form of a PCI address; throws BdfError when it is not one. */
export function parseBdf(text: string): Bdf {
  return formatBdf(parseBdfParts(text));
}

export function isBdf(text: string): boolean {
  try {
    return parseBdf(text) === text;
  } catch {
    return false;
  }
}

/** Numeric order by domain, bus, device, function (so 10000:... sorts after ffff:...). */
export function compareBdf(a: Bdf, b: Bdf): number {
  const pa = parseBdfParts(a);
  const pb = parseBdfParts(b);
  return pa.domain - pb.domain || pa.bus - pb.bus || pa.device - pb.device || pa.fn - pb.fn;
}
