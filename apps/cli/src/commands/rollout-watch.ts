import type { ApiClient } from '../api-client';
import { followRollout } from '../rollout-follow';
import { rolloutProgress } from '../rollout-progress';
import { statusSummary } from './rollout-output';

/**
 * `rollout watch`: the progress display until the rollout has finished, then its status.
 * Returns the exit code: 0 when it completed, 1 when it ended halted, aborted or expired.
 */
export async function watchRollout(client: ApiClient, id: string, opts: { intervalMs: number; out?: NodeJS.WriteStream }): Promise<number> {
  const out = opts.out ?? process.stdout;
  const progress = rolloutProgress(out);
  const view = await followRollout(client, id, { intervalMs: opts.intervalMs, onView: (v) => progress.show(v) }).finally(() => progress.stop());
  out.write(`${statusSummary(view)}\n`);
  return view.status === 'completed' ? 0 : 1;
}
