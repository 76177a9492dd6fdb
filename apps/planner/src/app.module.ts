import { Module, type DynamicModule } from '@nestjs/common';
import type { RedisClient } from '@luo-fleet/redis';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { InventoryModule } from './inventory/inventory.module';
import type { PlannerSettings } from './planner-settings';
import { PlansModule } from './plans/plans.module';
import { RedisModule } from './redis.module';
import { RolloutsModule } from './rollouts/rollouts.module';
import { JsonBodyInterceptor } from './transport/json-body.interceptor';

export interface PlannerModuleOptions {
  /** Validated settings (plannerSettingsFromEnv). */
  settings: PlannerSettings;
  /** A connected Redis; closed when the app shuts down. */
  redis: RedisClient;
}

/**
 * The planner. Feature modules (inventory, plans, rollouts, audit, auth, health) are separable.
 */
@Module({})
export class PlannerAppModule {
  static forRoot(opts: PlannerModuleOptions): DynamicModule {
    return {
      module: PlannerAppModule,
      imports: [
        RedisModule.forRoot(opts.settings, opts.redis),
        AuthModule,
        AuditModule,
        InventoryModule,
        PlansModule,
        RolloutsModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        // After the auth guard: a request's body is read only once it is authorized.
        { provide: APP_INTERCEPTOR, useClass: JsonBodyInterceptor },
      ],
    };
  }
}
