import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WORKER_CONFIG, type WorkerConfig } from '../worker-config';
import type { RolloutJobs } from '@luo-fleet/jobs';
import { ROLLOUT_JOBS } from '../job-ports';
import { RolloutStore } from '@luo-fleet/store';

/**
 * Every active rollout has a coordinator job. The planner stores a rollout and then enqueues its
 * job; if it died (or Redis went away) in between, the rollout would sit unrun. Enqueueing a
 * rollout's job is a no-op while that job exists, so every worker may repeat this safely.
 */
@Injectable()
export class CoordinatorWatchdog implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CoordinatorWatchdog.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(RolloutStore) private readonly store: RolloutStore,
    @Inject(ROLLOUT_JOBS) private readonly jobs: RolloutJobs,
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
      if (await this.jobs.has(id)) continue;
      await this.jobs.enqueue(id, Math.max(0, view.spec.window.startAt - now));
      this.logger.warn(`rollout ${id} had no coordinator job: enqueued one`);
      added++;
    }
    return added;
  }
}
