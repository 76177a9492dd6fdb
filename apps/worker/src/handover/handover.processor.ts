import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job } from 'bullmq';
import { outcomeSummaryOf, type OutcomeSummary } from '@luo-fleet/handover';
import { HANDOVER_QUEUE, readHandoverJob, type HandoverJobData } from '@luo-fleet/jobs';
import type { WorkerConfig } from '../worker-config';
import { RolloutCoordinator } from '../rollout/rollout-coordinator';
import { HandoverRunner, HostBusyError } from './handover-runner';

/**
 * Thin BullMQ adapter: all the handover logic lives in HandoverRunner and libs/handover. It is the
 * handover queue's processor once `handoverProcessor` has given it its worker options.
 */
export class HandoverProcessor extends WorkerHost {
  private readonly logger = new Logger(HandoverProcessor.name);

  constructor(
    @Inject(HandoverRunner) private readonly runner: HandoverRunner,
    @Inject(RolloutCoordinator) private readonly coordinator: RolloutCoordinator,
  ) {
    super();
  }

  async process(job: Job<HandoverJobData>, token?: string): Promise<OutcomeSummary> {
    const order = readHandoverJob(job.data);
    try {
      const { outcome, counted } = await this.runner.run(order);
      this.logger.log(`${order.plan.hostId}: ${outcome.outcome}${outcome.phase ? ` at ${outcome.phase}` : ''}`);
      // The outcome was counted where it was recorded; a slot it freed is refilled at once.
      if (counted === 'first') await this.coordinator.admit(order.plan.rolloutId);
      return outcomeSummaryOf(outcome);
    } catch (err) {
      if (err instanceof HostBusyError && token) {
        // Not a failure: wait for the other handover of this host to end, attempts untouched.
        await job.moveToDelayed(Date.now() + 1_000, token);
        throw new DelayedError();
      }
      throw err;
    }
  }
}

/**
 * HandoverProcessor with this process's worker options. @nestjs/bullmq takes them from the class
 * decorator, so the decorator is applied when the module is built from the config, not at import.
 */
export function handoverProcessor(config: WorkerConfig): typeof HandoverProcessor {
  Processor(HANDOVER_QUEUE, {
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    // A killed worker is an expected event in a fleet, not a reason to give up on a host.
    maxStalledCount: 1_000,
  })(HandoverProcessor);
  return HandoverProcessor;
}
