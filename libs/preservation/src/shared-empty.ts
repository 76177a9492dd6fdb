const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

/**
 * The one empty list that every verdict with nothing to list shares (no reasons, no rejected
 * devices). Verdicts are read, never edited; it is frozen, so an edit throws instead of changing
 * every verdict at once.
 */
export function emptyList<T>(): T[] {
  return EMPTY_LIST as unknown as T[];
}

/** The one empty record that every verdict without details shares; frozen like emptyList(). */
export function emptyRecord<T extends object>(): T {
  return EMPTY_RECORD as T;
}
