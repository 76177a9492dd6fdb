import type { ApiClient } from '../api-client';
import type { RolloutView } from '../commands/rollout-output';
import { followRollout } from '../rollout-follow';
import { rolloutProgress } from '../rollout-progress';
import { DemoInfrastructureError } from './demo-processes';
import type { Teardown } from './teardown';

const POLL_MS = 250;
/** Without a terminal: a progress line at most this often. */
const LINE_INTERVAL_MS = 2_000;
/** No host finishing for this long means the demo is stuck, not slow (every step is scaled down). */
const STALL_MS = 120_000;

/** "canary batch 2/4 (5 hosts)" or "last batch 4/4 (394 hosts, the rest)". */
export function describeBatch(view: RolloutView): string {
  const batches = view.limits.batches;
  const index = Math.min(view.batch, batches.length - 1);
  const size = batches[index] ?? 0;
  const hosts = `${size} host${size === 1 ? '' : 's'}`;
  if (batches.length <= 1) return `one batch (${hosts})`;
  return index < batches.length - 1 ? `canary batch ${index + 1}/${batches.length} (${hosts})` : `last batch ${index + 1}/${batches.length} (${hosts}, the rest)`;
}

/** Throws DemoInfrastructureError once the views show no host finishing for STALL_MS. */
function stallCheck(id: string): (view: RolloutView) => void {
  let lastFinished = -1;
  let lastChange = Date.now();
  return (view) => {
    if (view.finished !== lastFinished) {
      lastFinished = view.finished;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new DemoInfrastructureError(`rollout ${id} made no progress for ${STALL_MS / 1000} s (status ${view.status}, ${view.inflight} in flight); see the log`);
    }
  };
}

/**
 * Shows the demo's rollout with the progress display of `rollout watch` (plus its canary batch)
 * until it has finished; returns the last view.
 */
export async function followDemoRollout(
  client: ApiClient,
  id: string,
  opts: { out: NodeJS.WriteStream; teardown: Teardown; gaveUp: () => boolean },
): Promise<RolloutView> {
  const progress = rolloutProgress(opts.out, { detail: describeBatch, minLineIntervalMs: LINE_INTERVAL_MS });
  opts.teardown.add('stop the progress display', () => progress.stop()); // Ctrl-C: give the cursor back first
  const stalled = stallCheck(id);
  const onView = (v: RolloutView) => {
    progress.show(v);
    stalled(v);
  };
  return followRollout(client, id, { intervalMs: POLL_MS, onView, gaveUp: opts.gaveUp }).finally(() => progress.stop());
}
