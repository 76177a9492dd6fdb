import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { connectRedis, FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { METRICS_REDIS } from './metrics-redis';
import { FleetExporter } from './fleet/fleet-exporter';
import { HealthController } from './health.controller';
import type { MetricsAppOptions } from './metrics-config';
import { MetricsController } from './metrics.controller';

@Module({})
export class MetricsModule implements OnApplicationShutdown {
  constructor(
    @Inject(METRICS_REDIS) private readonly redis: RedisClient,
    @Inject(FleetExporter) private readonly exporter: FleetExporter,
  ) {}

  static forOptions(options: MetricsAppOptions): DynamicModule {
    return {
      module: MetricsModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [
        {
          provide: METRICS_REDIS,
          // A scrape must fail fast while Redis is away (and report redis_up 0), not queue forever.
          useFactory: () => {
            const redis = connectRedis(options.redis, { maxRetriesPerRequest: 1 });
            // An outage is reported by luo_fleet_redis_up and /health; ioredis reconnects by itself.
            redis.on('error', () => undefined);
            return redis;
          },
        },
        {
          provide: FleetExporter,
          inject: [METRICS_REDIS],
          useFactory: (redis: RedisClient) => new FleetExporter(redis, new FleetKeys(options.redis.prefix), options.redisTimeoutMs ?? 3_000),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.exporter.close().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }
}
