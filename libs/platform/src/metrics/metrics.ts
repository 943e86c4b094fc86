import {
  Controller,
  Get,
  Header,
  Inject,
  type MiddlewareConsumer,
  Module,
  type DynamicModule,
  type NestModule,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { OpenAccess } from '../access/access-policy.js';
import type { ServiceIdentity } from '../service-identity.js';
import { HttpMetrics, HttpMetricsMiddleware } from './http-metrics.js';

/** The service's Prometheus registry; every metric carries `service` and `instance` labels. */
export class MetricsRegistry extends Registry {}

@ApiExcludeController()
@OpenAccess()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(MetricsRegistry) private readonly registry: MetricsRegistry) {}

  @Get()
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

@Module({})
export class MetricsModule implements NestModule {
  static forService(identity: ServiceIdentity): DynamicModule {
    const registry = new MetricsRegistry();
    registry.setDefaultLabels({ service: identity.name, instance: identity.instance });
    collectDefaultMetrics({ register: registry });
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: MetricsRegistry, useValue: registry },
        { provide: HttpMetrics, useValue: new HttpMetrics(registry) },
      ],
      exports: [MetricsRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
