/**
 * The order hosts are admitted in: round-robin over failure domains (racks, zones), so that the
 * hosts in flight at any moment, and each canary batch, are spread across domains rather than
 * emptying one rack first. Within a domain, the given order is kept.
 */
export function spreadAcrossDomains<T>(hosts: T[], domainOf: (host: T) => string): T[] {
  const byDomain = new Map<string, T[]>();
  for (const h of hosts) {
    const d = domainOf(h);
    const list = byDomain.get(d);
    if (list) list.push(h);
    else byDomain.set(d, [h]);
  }
  const queues = [...byDomain.values()];
  const out: T[] = [];
  const cursors = new Array<number>(queues.length).fill(0);
  let remaining = hosts.length;
  while (remaining > 0) {
    for (let i = 0; i < queues.length; i++) {
      if (cursors[i] < queues[i].length) {
        out.push(queues[i][cursors[i]++]);
        remaining--;
      }
    }
  }
  return out;
}
