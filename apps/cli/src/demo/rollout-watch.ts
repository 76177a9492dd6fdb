import { DemoInfrastructureError } from './demo-processes';
import type { PlannerClient, RolloutStatusView } from './planner-client';

const POLL_MS = 250;
/** No host finishing for this long means the demo is stuck, not slow (every step is scaled down). */
const STALL_MS = 120_000;

/** Polls GET /v1/rollouts/:id until the rollout has finished (finishedAt set: nothing in flight, nothing pending). */
export async function watchRollout(client: PlannerClient, id: string, onView: (view: RolloutStatusView) => void): Promise<RolloutStatusView> {
  let lastFinished = -1;
  let lastChange = Date.now();
  for (;;) {
    const view = await client.rollout(id);
    onView(view);
    if (view.finishedAt !== undefined && view.finishedAt !== null) return view;
    if (view.finished !== lastFinished) {
      lastFinished = view.finished;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new DemoInfrastructureError(`rollout ${id} made no progress for ${STALL_MS / 1000} s (status ${view.status}, ${view.inflight} in flight); see the log`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
