import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BearerTokenGuard } from './bearer-token.guard';
import { FailedAuthLimiter } from './failed-auth-limiter';

/** Bearer-token authentication and role checks for every route (see access.decorators). */
@Module({
  providers: [{ provide: FailedAuthLimiter, useFactory: () => new FailedAuthLimiter() }, { provide: APP_GUARD, useClass: BearerTokenGuard }],
})
export class AuthModule {}
