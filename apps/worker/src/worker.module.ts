import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import IORedis from 'ioredis';
import { connectRedis, FleetKeys, HANDOVER_QUEUE } from '@luo-fleet/queue';
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
    BullModule.registerQueue({ name: HANDOVER_QUEUE }),
  ],
  providers: [
    { provide: WORKER_CONFIG, useFactory: () => loadWorkerConfig() },
    { provide: IORedis, inject: [WORKER_CONFIG], useFactory: (c: WorkerConfig) => connectRedis(c.redis) },
    {
      provide: HandoverRunner,
      inject: [IORedis, WORKER_CONFIG],
      useFactory: (redis: IORedis, c: WorkerConfig) =>
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
        }),
    },
    HandoverProcessor,
  ],
})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(IORedis) private readonly redis: IORedis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
