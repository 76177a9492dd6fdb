import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import IORedis from 'ioredis';
import { connectRedis, FleetKeys } from '@luo-fleet/queue';
import { FleetExporter } from './fleet/fleet-exporter';
import { HealthController } from './health.controller';
import type { MetricsAppOptions } from './metrics-config';
import { MetricsController } from './metrics.controller';

@Module({})
export class MetricsModule implements OnApplicationShutdown {
  constructor(
    @Inject(IORedis) private readonly redis: IORedis,
    @Inject(FleetExporter) private readonly exporter: FleetExporter,
  ) {}

  static forOptions(options: MetricsAppOptions): DynamicModule {
    return {
      module: MetricsModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [
        {
          provide: IORedis,
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
          inject: [IORedis],
          useFactory: (redis: IORedis) => new FleetExporter(redis, new FleetKeys(options.redis.prefix), options.redisTimeoutMs ?? 3_000),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.exporter.close().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }
}
