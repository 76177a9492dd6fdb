import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
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
  static forRoot(opts: PlannerModuleOptions, extra: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: PlannerAppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          // The env was validated (zod) before Nest started, so a bad one is a one-line error, not a crash
          // inside module loading. One key holding objects: nothing (no plaintext token) is copied into process.env.
          validate: () => ({ planner: opts.settings }),
        }),
        RedisModule.forRoot(opts.redis),
        AuthModule,
        AuditModule,
        InventoryModule,
        PlansModule,
        RolloutsModule,
        HealthModule,
        ...extra,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        // After the auth guard: a request's body is read only once it is authorized.
        { provide: APP_INTERCEPTOR, useClass: JsonBodyInterceptor },
      ],
    };
  }
}
