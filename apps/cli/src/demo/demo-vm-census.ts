import { connectRedis } from '@luo-fleet/redis';
import { RedisSimulatedHostStore, takeVmCensus, type CensusHost, type SimulatedHostState, type VmCensus } from '@luo-fleet/simulated-host';
import type { DemoRedis } from './demo-redis';

/** Records read at once: enough to keep Redis busy, few enough to keep the answers small. */
const RECORDS_PER_READ = 500;
const EXAMPLES = 4;

/** The census as the summary shows it: counts, and a few of the VMs that break it. */
export interface DemoVmCensus {
  vms: number;
  running: number;
  moved: number;
  idle: number;
  misplaced: number;
  examples: string[];
}

/**
 * Where every VM of the simulated fleet runs after the rollout, by the simulated hosts' own
 * records (takeVmCensus): each that ran before must run exactly once.
 */
export async function demoVmCensus(redis: DemoRedis, fleet: readonly CensusHost[]): Promise<DemoVmCensus> {
  const client = connectRedis({ url: redis.url, prefix: redis.prefix, clusterNodes: redis.clusterNodes }, { maxRetriesPerRequest: 1 });
  try {
    const store = new RedisSimulatedHostStore(client, redis.prefix);
    const records = new Map<string, SimulatedHostState | null>();
    for (let i = 0; i < fleet.length; i += RECORDS_PER_READ) {
      const chunk = fleet.slice(i, i + RECORDS_PER_READ);
      const read = await Promise.all(chunk.map((h) => store.load(h.id)));
      chunk.forEach((h, j) => records.set(h.id, read[j]));
    }
    return summarize(takeVmCensus(fleet, await store.placements(), records, Date.now()));
  } finally {
    client.disconnect();
  }
}

function summarize(c: VmCensus): DemoVmCensus {
  const examples = [...c.misplaced, ...c.idle.map((v) => `${v.name}: not running on ${v.at}`)].slice(0, EXAMPLES);
  return { vms: c.vms, running: c.running, moved: c.moved, idle: c.idle.length, misplaced: c.misplaced.length, examples };
}
