import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { InventoryModule } from './inventory/inventory.module';
import { plannerSettingsFromEnv } from './planner-settings';
import { PlansModule } from './plans/plans.module';
import { RedisModule } from './redis.module';

export interface PlannerModuleOptions {
  /** The environment to configure from; process.env when absent (tests pass their own). */
  env?: Record<string, string | undefined>;
}

/**
 * The planner. Feature modules (inventory, plans, audit, auth, health) are separable; rollouts
 * plug in as one more module importing InventoryModule and AuditModule.
 */
@Module({})
export class PlannerAppModule {
  static forRoot(opts: PlannerModuleOptions = {}, extra: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: PlannerAppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          // Settings go under one key holding objects, so nothing (no plaintext token) is copied back into process.env.
          validate: (raw) => ({ planner: plannerSettingsFromEnv(opts.env ?? (raw as Record<string, string | undefined>)) }),
        }),
        RedisModule,
        AuthModule,
        AuditModule,
        InventoryModule,
        PlansModule,
        HealthModule,
        ...extra,
      ],
      providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
    };
  }
}
