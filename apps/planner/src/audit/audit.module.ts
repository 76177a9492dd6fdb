import { Module } from '@nestjs/common';
import { AuditLog } from './audit-log';
import type { RedisClient } from '@luo-fleet/redis';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { AuditController } from './audit.controller';
import { RefusalLog } from './refusal-log';

/** The audit log of authorized mutating calls and the log of refused requests (recorded by audit-recorder, read at GET /v1/audit and /v1/audit/refusals). */
@Module({
  controllers: [AuditController],
  providers: [
    {
      provide: AuditLog,
      useFactory: (redis: RedisClient, settings: PlannerSettings) => new AuditLog(redis, settings.redis.prefix, settings.auditMaxLen),
      inject: [PLANNER_REDIS, PLANNER_SETTINGS],
    },
    {
      provide: RefusalLog,
      useFactory: (redis: RedisClient, settings: PlannerSettings) => new RefusalLog(redis, settings.redis.prefix),
      inject: [PLANNER_REDIS, PLANNER_SETTINGS],
    },
  ],
  exports: [AuditLog, RefusalLog],
})
export class AuditModule {}
