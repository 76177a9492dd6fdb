import type { z } from 'zod';

/** One wrong field of a JSON document: where it is (e.g. `devices[3].bdf`) and what is wrong. */
export interface InputIssue {
  path: string;
  problem: string;
}

/** A zod issue path as people write it: `vms[2].memory.backing`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

/** Every issue of a failed parse, each with its path under `prefix` (which may be empty). */
export function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputIssue[] {
  return error.issues.map((i) => ({ path: formatIssuePath([...prefix, ...i.path]), problem: i.message }));
}

/** `path: problem; path: problem`, with `(document)` for the root. */
export function describeIssues(issues: readonly InputIssue[]): string {
  return issues.map((i) => `${i.path || '(document)'}: ${i.problem}`).join('; ');
}
