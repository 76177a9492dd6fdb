import type { HostResult, RolloutStore } from '@luo-fleet/store';

/** Every scan step asks for the same COUNT, so re-reading a step (to serve its rest) gives the same hosts. */
const SCAN_STEP = 1000;

export interface HostPage {
  hosts: HostResult[];
  nextCursor: string | null;
}

/**
 * Exact pages over the store's HSCAN/SSCAN pages, whose COUNT is only a hint (a small hash comes
 * back whole). Our cursor is `<scan cursor>` or `<scan cursor>.<hosts of that scan step already
 * served>`: the host list of a rollout is fixed at creation, so re-reading a scan step with the
 * same COUNT gives the same hosts in the same order. (A state filter follows hosts that move
 * between states; as with any SCAN, a host that moves during paging may be seen twice or missed.)
 */
export async function pageHosts(store: RolloutStore, rolloutId: string, q: { state?: string; cursor?: string; limit: number }): Promise<HostPage> {
  const [scanText, skipText] = (q.cursor ?? '0').split('.');
  let scan = scanText;
  let skip = Number(skipText ?? 0);
  const hosts: HostResult[] = [];
  for (;;) {
    const step = await store.hosts(rolloutId, { state: q.state, cursor: scan, limit: SCAN_STEP });
    const fresh = step.hosts.slice(skip);
    const room = q.limit - hosts.length;
    if (fresh.length > room) {
      hosts.push(...fresh.slice(0, room));
      return { hosts, nextCursor: `${scan}.${skip + room}` };
    }
    hosts.push(...fresh);
    skip = 0;
    if (step.nextCursor === null) return { hosts, nextCursor: null };
    scan = step.nextCursor;
    if (hosts.length === q.limit) return { hosts, nextCursor: scan };
  }
}
