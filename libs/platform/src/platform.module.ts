import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AccessModule } from './access/access.module.js';
import { OperatorActionsController } from './audit/operator-actions.controller.js';
import { OperatorActionLog } from './audit/operator-actions.js';
import type { BaseConfig } from './config/service-config.js';
import { HealthController } from './health/health.controller.js';
import { Readiness } from './health/readiness.js';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.js';
import { SERVICE_CONFIG } from './platform.tokens.js';
import { ServiceIdentity } from './service-identity.js';

/**
 * What every orderflow service boots with: its identity and configuration, logs, health, metrics, access control,
 * the record of operators' actions and error format.
 */
@Global()
@Module({})
export class PlatformModule {
  static forService(identity: ServiceIdentity, config: BaseConfig): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        LoggingModule.forService(identity, config.LOG_LEVEL),
        TerminusModule.forRoot({ errorLogStyle: 'json', gracefulShutdownTimeoutMs: 0 }),
        MetricsModule.forService(identity, { commit: config.ORDERFLOW_COMMIT }),
        AccessModule.forService(config),
      ],
      controllers: [HealthController, OperatorActionsController],
      providers: [
        { provide: ServiceIdentity, useValue: identity },
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_INTERCEPTOR, useClass: OperatorActionLog },
        Readiness,
      ],
      exports: [ServiceIdentity, SERVICE_CONFIG, Readiness, MetricsModule],
    };
  }
}
