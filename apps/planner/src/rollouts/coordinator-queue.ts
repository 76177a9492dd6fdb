import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RedisClient } from '@luo-fleet/redis';
import { FleetKeys } from '@luo-fleet/redis';
import { openRolloutJobs, type BullRolloutJobs } from '@luo-fleet/jobs';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';

/**
 * The `rollout` queue, from the planner's side: it only adds each rollout's coordinator job (the
 * workers run it). It shares the planner's fail-fast Redis connection, so a request made while
 * Redis is away gets a 503 instead of hanging.
 */
@Injectable()
export class CoordinatorQueue implements OnModuleDestroy {
  private readonly jobs: BullRolloutJobs;

  constructor(@Inject(PLANNER_REDIS) redis: RedisClient, @Inject(PLANNER_SETTINGS) settings: PlannerSettings) {
    this.jobs = openRolloutJobs(redis, new FleetKeys(settings.redis.prefix).bullPrefix());
  }

  /** A retried enqueue never makes a second coordinator (see RolloutJobs). */
  enqueue(rolloutId: string, delayMs: number): Promise<void> {
    return this.jobs.enqueue(rolloutId, delayMs);
  }

  // Before RedisModule quits the shared connection (that happens at application shutdown).
  async onModuleDestroy(): Promise<void> {
    await this.jobs.close();
  }
}
