import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { connectRedis, FleetKeys, HANDOVER_QUEUE, ROLLOUT_QUEUE, RolloutStore } from '@luo-fleet/queue';
import { RolloutCoordinator } from './rollout/rollout-coordinator';
import { RolloutProcessor } from './rollout/rollout.processor';
import { CoordinatorWatchdog } from './rollout/coordinator-watchdog';
import { loadWorkerConfig, type WorkerConfig } from './worker-config';
import { HandoverProcessor } from './handover/handover.processor';
import { HandoverRunner } from './handover/handover-runner';
import { hostDriverFactory } from './handover/host-drivers';

const WORKER_CONFIG = Symbol('WORKER_CONFIG');

@Module({
  imports: [
    BullModule.forRootAsync({
      useFactory: () => {
        const c = loadWorkerConfig();
        return { connection: { url: c.redis.url, maxRetriesPerRequest: null }, prefix: new FleetKeys(c.redis.prefix).bullPrefix() };
      },
    }),
    BullModule.registerQueue({ name: HANDOVER_QUEUE }, { name: ROLLOUT_QUEUE }),
  ],
  providers: [
    { provide: WORKER_CONFIG, useFactory: () => loadWorkerConfig() },
    { provide: IORedis, inject: [WORKER_CONFIG], useFactory: (c: WorkerConfig) => connectRedis(c.redis) },
    {
      provide: RolloutStore,
      inject: [IORedis, WORKER_CONFIG],
      useFactory: (redis: IORedis, c: WorkerConfig) => new RolloutStore(redis, new FleetKeys(c.redis.prefix)),
    },
    {
      provide: RolloutCoordinator,
      inject: [IORedis, WORKER_CONFIG, RolloutStore, getQueueToken(HANDOVER_QUEUE)],
      useFactory: (redis: IORedis, c: WorkerConfig, store: RolloutStore, queue: Queue) =>
        new RolloutCoordinator(redis, new FleetKeys(c.redis.prefix), store, queue, {
          tickMs: c.COORDINATOR_TICK_MS,
          reconcileAfterMs: 10_000,
          reconcileEveryMs: 2_000,
        }),
    },
    {
      provide: HandoverRunner,
      inject: [IORedis, WORKER_CONFIG, RolloutStore],
      useFactory: (redis: IORedis, c: WorkerConfig, store: RolloutStore) =>
        new HandoverRunner(redis, new FleetKeys(c.redis.prefix), hostDriverFactory(redis, c.redis.prefix, {
          latencyScale: c.SIM_LATENCY_SCALE,
          fixedLatencyMs: c.SIM_FIXED_LATENCY_MS,
          agentSecretsDir: c.AGENT_SECRETS_DIR,
          agentTimeoutMs: c.AGENT_TIMEOUT_MS,
        }), {
          leaseTtlMs: c.LEASE_TTL_MS,
          machine: {
            stepTimeoutMs: c.STEP_TIMEOUT_MS,
            bootTimeoutMs: c.BOOT_TIMEOUT_MS,
            bootPollMs: c.BOOT_POLL_MS,
            sameBootGraceMs: c.SAME_BOOT_GRACE_MS,
          },
        }, (id) => store.status(id)),
    },
    HandoverProcessor,
    RolloutProcessor,
    CoordinatorWatchdog,
  ],
})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(IORedis) private readonly redis: IORedis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
