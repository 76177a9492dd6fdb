import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { WORKER_CONFIG, type WorkerConfig } from '../worker-config';
import { ROLLOUT_JOB_OPTIONS, ROLLOUT_QUEUE, rolloutJobId, type RolloutJobData } from '@luo-fleet/jobs';
import { RolloutStore } from '@luo-fleet/store';

/**
 * Every active rollout has a coordinator job. The planner stores a rollout and then enqueues its
 * job; if it died (or Redis went away) in between, the rollout would sit unrun. Adding a job under
 * the rollout's job id is a no-op while that job exists, so every worker may repeat this safely.
 */
@Injectable()
export class CoordinatorWatchdog implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CoordinatorWatchdog.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(RolloutStore) private readonly store: RolloutStore,
    @InjectQueue(ROLLOUT_QUEUE) private readonly queue: Queue<RolloutJobData>,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.ensureDriven().catch((err: Error) => this.logger.warn(`watchdog: ${err.message}`)), this.config.COORDINATOR_WATCHDOG_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async ensureDriven(now = Date.now()): Promise<number> {
    let added = 0;
    for (const id of await this.store.activeIds()) {
      const view = await this.store.get(id);
      if (!view || view.finishedAt !== undefined) continue;
      const jobId = rolloutJobId(id);
      if (await this.queue.getJob(jobId)) continue;
      await this.queue.add('rollout', { rolloutId: id }, { ...ROLLOUT_JOB_OPTIONS, jobId, delay: Math.max(0, view.spec.window.startAt - now) });
      this.logger.warn(`rollout ${id} had no coordinator job: enqueued one`);
      added++;
    }
    return added;
  }
}
