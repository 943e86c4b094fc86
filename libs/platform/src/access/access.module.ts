import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { BaseConfig } from '../config/service-config.js';
import { AccessControl, CallerIdentification, RateLimit } from './access.guards.js';
import { OperatorCredentials } from './operator-credentials.js';

/**
 * Authentication, rate limiting and authorisation for every endpoint of a service. The guards are global, in the
 * order the comment in access.guards.ts explains. The rate limit counts in this replica's memory: with N replicas
 * a client gets up to N times the limit (docs/security.md), a trade made so that no shared store sits in the path
 * of every request.
 */
@Module({})
export class AccessModule {
  static forService(config: BaseConfig): DynamicModule {
    return {
      module: AccessModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ limit: config.RATE_LIMIT_REQUESTS, ttl: config.RATE_LIMIT_WINDOW_MS }],
        }),
      ],
      providers: [
        OperatorCredentials,
        { provide: APP_GUARD, useClass: CallerIdentification },
        { provide: APP_GUARD, useClass: RateLimit },
        { provide: APP_GUARD, useClass: AccessControl },
      ],
      exports: [OperatorCredentials],
    };
  }
}
