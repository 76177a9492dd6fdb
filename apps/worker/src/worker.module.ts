import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { coalesceWrites, connectRedis, FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { BullHandoverJobs, BullRolloutJobs, HANDOVER_QUEUE, ROLLOUT_QUEUE, type HandoverJobs, type JobQueue } from '@luo-fleet/jobs';
import { EvacuationCapacity, FleetCapacity, RolloutStore } from '@luo-fleet/store';
import { RolloutCoordinator } from './rollout/rollout-coordinator';
import { EvacuationPlacement } from './rollout/evacuation-placement';
import { RolloutProcessor, rolloutProcessor } from './rollout/rollout.processor';
import { CoordinatorWatchdog } from './rollout/coordinator-watchdog';
import { WORKER_CONFIG, type WorkerConfig } from './worker-config';
import { HANDOVER_JOBS, ROLLOUT_JOBS } from './job-ports';
import { HandoverProcessor, handoverProcessor } from './handover/handover.processor';
import { HandoverRunner } from './handover/handover-runner';
import { hostDriverFactory } from './handover/host-drivers';

/** The worker's own connection (journal, leases, rollout state): an IORedis, or a Cluster with REDIS_CLUSTER_NODES. */
export const WORKER_REDIS = Symbol('WORKER_REDIS');

/**
 * BullMQ's connection. On one Redis, options: BullMQ opens (and closes) a connection per queue and
 * worker. On a cluster BullMQ needs a Cluster instance (`maxRetriesPerRequest: null` in its
 * redisOptions), which it shares between queues and workers and duplicates for blocking reads; it
 * closes the duplicates and leaves the shared one open, which lives as long as the process (closing
 * it here could cut off a worker that is still finishing its active jobs).
 */
function bullConnection(c: WorkerConfig) {
  if (!c.redis.clusterNodes) return { url: c.redis.url, maxRetriesPerRequest: null };
  return connectRedis(c.redis);
}

/** The worker process, built from the config main.ts read once at bootstrap. */
const workerModule = (config: WorkerConfig): Omit<DynamicModule, 'module'> => ({
  imports: [
    BullModule.forRootAsync({
      useFactory: () => ({ connection: bullConnection(config), prefix: new FleetKeys(config.redis.prefix).bullPrefix() }),
    }),
    BullModule.registerQueue({ name: HANDOVER_QUEUE }, { name: ROLLOUT_QUEUE }),
  ],
  providers: [
    { provide: WORKER_CONFIG, useValue: config },
    {
      provide: WORKER_REDIS,
      inject: [WORKER_CONFIG],
      // Each turn's commands in one write (see coalesceWrites). Not ioredis's auto-pipelining: with
      // a hundred handovers stepping at once, its one-pipeline-in-flight rule makes each host wait
      // for the others.
      useFactory: (c: WorkerConfig) => coalesceWrites(connectRedis(c.redis)),
    },
    {
      provide: RolloutStore,
      inject: [WORKER_REDIS, WORKER_CONFIG],
      useFactory: (redis: RedisClient, c: WorkerConfig) => new RolloutStore(redis, new FleetKeys(c.redis.prefix)),
    },
    // The queues BullModule registered (on its connection), behind the libs/jobs ports.
    { provide: HANDOVER_JOBS, inject: [getQueueToken(HANDOVER_QUEUE)], useFactory: (queue: JobQueue) => new BullHandoverJobs(queue) },
    { provide: ROLLOUT_JOBS, inject: [getQueueToken(ROLLOUT_QUEUE)], useFactory: (queue: JobQueue) => new BullRolloutJobs(queue) },
    {
      provide: RolloutCoordinator,
      inject: [WORKER_REDIS, WORKER_CONFIG, RolloutStore, HANDOVER_JOBS],
      useFactory: (redis: RedisClient, c: WorkerConfig, store: RolloutStore, handovers: HandoverJobs) =>
        new RolloutCoordinator(
          redis,
          new FleetKeys(c.redis.prefix),
          store,
          handovers,
          { tickMs: c.COORDINATOR_TICK_MS, reconcileAfterMs: 10_000, reconcileEveryMs: 2_000 },
          new EvacuationPlacement(store, new EvacuationCapacity(redis, new FleetKeys(c.redis.prefix)), new FleetCapacity(redis, new FleetKeys(c.redis.prefix))),
        ),
    },
    {
      provide: HandoverRunner,
      inject: [WORKER_REDIS, WORKER_CONFIG, RolloutStore],
      useFactory: (redis: RedisClient, c: WorkerConfig, store: RolloutStore) =>
        new HandoverRunner(redis, new FleetKeys(c.redis.prefix), hostDriverFactory(redis, c.redis.prefix, {
          latencyScale: c.SIM_LATENCY_SCALE,
          fixedLatencyMs: c.SIM_FIXED_LATENCY_MS,
          agentSecretsDir: c.AGENT_SECRETS_DIR,
          agentTimeoutMs: c.AGENT_TIMEOUT_MS,
          agentRetries: c.AGENT_RETRIES,
          agentRetryDelayMs: c.AGENT_RETRY_DELAY_MS,
          agentTls: c.agentTls,
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
    handoverProcessor(config),
    rolloutProcessor(config),
    CoordinatorWatchdog,
  ],
});

@Module({})
export class WorkerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forRoot(config: WorkerConfig): DynamicModule {
    return { module: WorkerModule, ...workerModule(config) };
  }

  constructor(
    @Inject(WORKER_REDIS) private readonly redis: RedisClient,
    @Inject(HandoverProcessor) private readonly handovers: HandoverProcessor,
    @Inject(RolloutProcessor) private readonly rollouts: RolloutProcessor,
  ) {}

  /**
   * The handover worker's own BullMQ connection coalesces each turn's writes as ours do: a hundred
   * handovers ending in one turn send their moveToFinished calls in one write, not one each.
   */
  async onApplicationBootstrap(): Promise<void> {
    // BullMQ's Redis backend types its client by its own interface; it is the ioredis instance.
    coalesceWrites((await this.handovers.worker.backend.client) as unknown as RedisClient);
  }

  /**
   * Active handovers journal through this connection until their step ends: close the BullMQ
   * workers first (they wait for active jobs; closing twice is harmless when @nestjs/bullmq does it
   * too), and only then the connection.
   */
  async onApplicationShutdown(): Promise<void> {
    this.rollouts.onApplicationShutdown();
    await Promise.all([this.handovers.worker.close(), this.rollouts.worker.close()]).catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }
}
