import { labelValue, LABEL_KEY, LABEL_VALUE } from './inventory-host';

/**
 * Label selector terms, as in Kubernetes: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
 * `k` (has the label) and `!k` (lacks it). Terms are ANDed; negative terms match hosts lacking the key.
 */
export type SelectorTerm =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

export type LabelSelector = SelectorTerm[];

export class SelectorError extends Error {
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`label selector ${JSON.stringify(input)}: ${problem}`);
    this.name = 'SelectorError';
  }
}

const KEY = LABEL_KEY.source.slice(1, -1);
const VALUE = LABEL_VALUE.source.slice(1, -1);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const EXISTENCE = new RegExp(`^(!?)\\s*(${KEY})$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

/** Splits on commas that are not inside `( )`. */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth < 0 || depth > 1) throw new SelectorError(input, `unbalanced parenthesis at position ${i + 1}`);
    if (c === ',' && depth === 0) {
      terms.push(input.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new SelectorError(input, 'unclosed parenthesis');
  terms.push(input.slice(start));
  return terms.map((t) => t.trim());
}

function parseTerm(input: string, text: string, n: number): SelectorTerm {
  if (text === '') throw new SelectorError(input, `term ${n} is empty`);
  const eq = EQUALITY.exec(text);
  if (eq) return { key: eq[1], op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3]] };
  const set = SET.exec(text);
  if (set) {
    const values = set[3].split(',').map((v) => v.trim());
    const bad = values.find((v) => v === '' || !VALUE_ONLY.test(v) || v.length > 63);
    if (bad !== undefined) throw new SelectorError(input, `term ${n} (${text}): ${bad === '' ? 'empty value in list' : `bad value ${JSON.stringify(bad)}`}`);
    return { key: set[1], op: set[2] as 'in' | 'notin', values };
  }
  const ex = EXISTENCE.exec(text);
  if (ex) return { key: ex[2], op: ex[1] === '!' ? 'absent' : 'exists' };
  throw new SelectorError(
    input,
    `term ${n} (${text}) is not key=value, key!=value, key in (a,b), key notin (a,b), key or !key (keys: lower-case a-z 0-9 _ . / -; values: A-Z a-z 0-9 _ . -)`,
  );
}

/** Parses `rack=r1,zone in (z1,z2)`; the empty string selects every host. */
export function parseSelector(input: string): LabelSelector {
  if (input.trim() === '') return [];
  const terms = splitTerms(input).map((t, i) => parseTerm(input, t, i + 1));
  for (const term of terms) {
    if (term.key.length > 63) throw new SelectorError(input, `key ${term.key.slice(0, 20)}... is longer than 63 characters`);
    if ('values' in term && term.values.some((v) => v.length > 63)) throw new SelectorError(input, `a value of ${term.key} is longer than 63 characters`);
  }
  return terms;
}

export function matchesSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector): boolean {
  return selector.every((term) => {
    const value = labelValue(labels, term.key);
    switch (term.op) {
      case 'in':
        return value !== undefined && term.values.includes(value);
      case 'notin':
        return value === undefined || !term.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'absent':
        return value === undefined;
    }
  });
}

/** The `key=value` pairs any match must carry (terms with exactly one allowed value): index lookups. */
export function requiredPairs(selector: LabelSelector): Array<[string, string]> {
  return selector.flatMap((t) => (t.op === 'in' && t.values.length === 1 ? [[t.key, t.values[0]] as [string, string]] : []));
}

export function formatSelector(selector: LabelSelector): string {
  return selector
    .map((t) => {
      switch (t.op) {
        case 'in':
          return t.values.length === 1 ? `${t.key}=${t.values[0]}` : `${t.key} in (${t.values.join(',')})`;
        case 'notin':
          return t.values.length === 1 ? `${t.key}!=${t.values[0]}` : `${t.key} notin (${t.values.join(',')})`;
        case 'exists':
          return t.key;
        case 'absent':
          return `!${t.key}`;
      }
    })
    .join(',');
}
