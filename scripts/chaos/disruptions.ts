import type { ChaosRedis } from './chaos-redis';
import type { FleetApps } from './fleet-apps';
import { between, seededRandom, sleep } from './seeded';

export const DISRUPTION_KINDS = ['worker-sigkill', 'coordinator-sigkill', 'all-workers-sigkill', 'drain-sigkill', 'planner-restart', 'redis-restart'] as const;
export type DisruptionKind = (typeof DISRUPTION_KINDS)[number];

interface Planned {
  atMs: number;
  kind: DisruptionKind;
}

/**
 * When each disruption happens, from the seed, in ms after the rollout starts. CI: one of each kind
 * but the all-at-once kill, early enough to land inside a ~30 s rollout. Full: a worker SIGKILL every
 * 3-7 s, and each other kind once inside the first minutes. `drain-sigkill` is not before its time
 * but when a host is next seen draining (evacuations are admitted last): every worker is killed,
 * so whichever runs the drain dies mid-migration.
 */
export function planDisruptions(seed: number, ci: boolean): Planned[] {
  const random = seededRandom(seed ^ 0x5eed);
  if (ci) {
    return [
      { atMs: between(random, 2_000, 4_000), kind: 'worker-sigkill' },
      { atMs: between(random, 6_000, 8_000), kind: 'coordinator-sigkill' },
      { atMs: between(random, 10_000, 12_000), kind: 'planner-restart' },
      { atMs: between(random, 13_000, 15_000), kind: 'redis-restart' },
      { atMs: 16_000, kind: 'drain-sigkill' },
    ];
  }
  const plan: Planned[] = [
    { atMs: between(random, 15_000, 40_000), kind: 'coordinator-sigkill' },
    { atMs: between(random, 20_000, 60_000), kind: 'planner-restart' },
    { atMs: between(random, 30_000, 70_000), kind: 'redis-restart' },
    { atMs: between(random, 50_000, 90_000), kind: 'all-workers-sigkill' },
    { atMs: between(random, 90_000, 120_000), kind: 'drain-sigkill' },
  ];
  for (let t = between(random, 3_000, 7_000); t < 20 * 60_000; t += between(random, 3_000, 7_000)) plan.push({ atMs: t, kind: 'worker-sigkill' });
  return plan.sort((a, b) => a.atMs - b.atMs);
}

/** Carries out the plan until `finished()`; one disruption at a time. Returns how many of each were done. */
export async function runDisruptions(
  plan: Planned[],
  ctx: {
    seed: number;
    startedAt: number;
    apps: FleetApps;
    redis: ChaosRedis;
    finished: () => boolean;
    /** Hosts in the `drain` step now (none while Redis is down). */
    draining: () => Promise<string[]>;
    log: (line: string) => void;
  },
): Promise<Record<DisruptionKind, number>> {
  const done = Object.fromEntries(DISRUPTION_KINDS.map((k) => [k, 0])) as Record<DisruptionKind, number>;
  const random = seededRandom(ctx.seed ^ 0xc4a05);
  const { apps } = ctx;
  const at = () => `${((Date.now() - ctx.startedAt) / 1000).toFixed(1)}s`;
  for (const step of plan) {
    while (Date.now() - ctx.startedAt < step.atMs) {
      if (ctx.finished()) return done;
      await sleep(50);
    }
    if (ctx.finished()) return done;
    switch (step.kind) {
      case 'worker-sigkill': {
        const live = apps.liveWorkers();
        const victim = live[Math.floor(random() * live.length)];
        await apps.killWorker(victim);
        const fresh = apps.startWorker();
        ctx.log(`${at()} SIGKILL ${victim}, started ${fresh}`);
        break;
      }
      case 'coordinator-sigkill': {
        // The holder may not be known yet (the job is between owners): wait for one to log it.
        const deadline = Date.now() + 30_000;
        while (apps.coordinatorHolder === undefined && Date.now() < deadline && !ctx.finished()) await sleep(50);
        const holder = apps.coordinatorHolder;
        if (holder === undefined) {
          ctx.log(`${at()} no worker holds the coordinator job: skipped`);
          continue;
        }
        await apps.killWorker(holder);
        const fresh = apps.startWorker();
        ctx.log(`${at()} SIGKILL ${holder} (running the coordinator), started ${fresh}`);
        break;
      }
      case 'drain-sigkill': {
        let draining: string[] = [];
        while (draining.length === 0) {
          if (ctx.finished()) return done;
          draining = await ctx.draining();
          if (draining.length === 0) await sleep(20);
        }
        const live = apps.liveWorkers();
        await Promise.all(live.map((w) => apps.killWorker(w)));
        const fresh = live.map(() => apps.startWorker());
        ctx.log(`${at()} SIGKILL every worker (${live.join(',')}) while ${draining.slice(0, 3).join(',')}${draining.length > 3 ? ',...' : ''} in drain, started ${fresh.join(',')}`);
        break;
      }
      case 'all-workers-sigkill': {
        const live = apps.liveWorkers();
        await Promise.all(live.map((w) => apps.killWorker(w)));
        const fresh = live.map(() => apps.startWorker());
        ctx.log(`${at()} SIGKILL every worker (${live.join(',')}), started ${fresh.join(',')}`);
        break;
      }
      case 'planner-restart': {
        const t0 = Date.now();
        await apps.restartPlanner();
        ctx.log(`${at()} planner SIGKILLed and started again (${Date.now() - t0} ms)`);
        break;
      }
      case 'redis-restart': {
        const downMs = Math.round(between(random, 500, 1_500));
        const took = await ctx.redis.restart(downMs);
        ctx.log(`${at()} redis-server SIGTERM, down ${downMs} ms, answering again after ${took} ms`);
        break;
      }
    }
    done[step.kind]++;
  }
  return done;
}
