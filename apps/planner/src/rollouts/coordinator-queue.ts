import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { RedisClient } from '@luo-fleet/redis';
import { FleetKeys } from '@luo-fleet/redis';
import { ROLLOUT_JOB_OPTIONS, ROLLOUT_QUEUE, rolloutJobId, type RolloutJobData } from '@luo-fleet/jobs';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';

/**
 * The `rollout` queue, from the planner's side: it only adds each rollout's coordinator job (the
 * workers run it). It shares the planner's fail-fast Redis connection, so a request made while
 * Redis is away gets a 503 instead of hanging.
 */
@Injectable()
export class CoordinatorQueue implements OnModuleDestroy {
  private readonly queue: Queue<RolloutJobData>;

  constructor(@Inject(PLANNER_REDIS) redis: RedisClient, @Inject(PLANNER_SETTINGS) settings: PlannerSettings) {
    this.queue = new Queue<RolloutJobData>(ROLLOUT_QUEUE, { connection: redis, prefix: new FleetKeys(settings.redis.prefix).bullPrefix() });
    // Errors surface on the add() that hit them; the event would otherwise be an unhandled 'error'.
    this.queue.on('error', () => undefined);
  }

  /** The job id is derived from the rollout id, so a retried add never makes a second coordinator. */
  async enqueue(rolloutId: string, delayMs: number): Promise<void> {
    await this.queue.add(ROLLOUT_QUEUE, { rolloutId }, { ...ROLLOUT_JOB_OPTIONS, jobId: rolloutJobId(rolloutId), delay: delayMs });
  }

  // Before RedisModule quits the shared connection (that happens at application shutdown).
  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
