import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutView } from '@luo-fleet/store';
import type { ApiClient } from './api-client';
import { ApiUnreachable } from './api-errors';

/** A planner restart or a network blip should not end a watch of a rollout that runs for hours. */
const MAX_MISSED_POLLS = 10;

export interface FollowOptions {
  intervalMs: number;
  /** Every view polled, in order; throwing ends the follow with that error. */
  onView: (view: RolloutView) => void;
  /** Polled before each request: true ends the follow (its caller has stopped waiting for it). */
  gaveUp?: () => boolean;
}

/**
 * Polls GET /v1/rollouts/:id until the rollout has finished (finishedAt set: every host has an
 * outcome, none is in flight) and returns that last view.
 */
export async function followRollout(client: ApiClient, id: string, opts: FollowOptions): Promise<RolloutView> {
  let missed = 0;
  for (;;) {
    if (opts.gaveUp?.()) throw new Error(`stopped following rollout ${id}`);
    let view: RolloutView;
    try {
      view = await client.rollout(id);
      missed = 0;
    } catch (err) {
      if (!(err instanceof ApiUnreachable) || ++missed >= MAX_MISSED_POLLS) throw err;
      await sleep(opts.intervalMs);
      continue;
    }
    opts.onView(view);
    if (view.finishedAt !== undefined) return view;
    await sleep(opts.intervalMs);
  }
}
