import { Module } from '@nestjs/common';
import { AuditLog } from './audit-log';
import type { RedisClient } from '@luo-fleet/redis';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { AuditController } from './audit.controller';

/** The audit log of mutating calls (recorded by audit-recorder, read at GET /v1/audit). */
@Module({
  controllers: [AuditController],
  providers: [
    {
      provide: AuditLog,
      useFactory: (redis: RedisClient, settings: PlannerSettings) => new AuditLog(redis, settings.redis.prefix, settings.auditMaxLen),
      inject: [PLANNER_REDIS, PLANNER_SETTINGS],
    },
  ],
  exports: [AuditLog],
})
export class AuditModule {}
