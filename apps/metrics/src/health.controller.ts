import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { RedisClient } from '@luo-fleet/redis';
import { METRICS_REDIS } from './metrics-redis';

const PING_TIMEOUT_MS = 1_000;

@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(METRICS_REDIS) private readonly redis: RedisClient,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.redisPing()]);
  }

  private async redisPing() {
    const session = this.indicators.check('redis');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), PING_TIMEOUT_MS);
    });
    try {
      const answer = await Promise.race([this.redis.ping().catch((err: Error) => err.message), timeout]);
      return answer === 'PONG' ? session.up() : session.down({ message: answer });
    } finally {
      clearTimeout(timer);
    }
  }
}
