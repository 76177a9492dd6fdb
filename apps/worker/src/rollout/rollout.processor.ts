import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { readRolloutJob, ROLLOUT_QUEUE, type RolloutJobData } from '@luo-fleet/jobs';
import type { WorkerConfig } from '../worker-config';
import { RolloutCoordinator } from './rollout-coordinator';

/**
 * Thin BullMQ adapter: one long-running job per rollout drives its RolloutCoordinator. It is the
 * rollout queue's processor once `rolloutProcessor` has given it its worker options.
 */
export class RolloutProcessor extends WorkerHost {
  private readonly logger = new Logger(RolloutProcessor.name);
  private closing = false;

  constructor(@Inject(RolloutCoordinator) private readonly coordinator: RolloutCoordinator) {
    super();
  }

  async process(job: Job<RolloutJobData>): Promise<string> {
    const { rolloutId } = readRolloutJob(job.data);
    this.logger.log(`driving rollout ${rolloutId}`);
    const status = await this.coordinator.drive(rolloutId, () => !this.closing);
    this.logger.log(`rollout ${rolloutId}: ${status}`);
    return status;
  }

  onApplicationShutdown(): void {
    this.closing = true;
  }
}

/** RolloutProcessor with this process's worker options (see handoverProcessor for why here). */
export function rolloutProcessor(config: WorkerConfig): typeof RolloutProcessor {
  Processor(ROLLOUT_QUEUE, {
    concurrency: 100,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    // A coordinator whose process died is picked up by another worker, however often that happens.
    maxStalledCount: 1_000_000,
  })(RolloutProcessor);
  return RolloutProcessor;
}
