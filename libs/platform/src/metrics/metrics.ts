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
import { DatabasePoolMetrics, exportBuildInfo } from './process-metrics.js';

/**
 * The label every series of a service carries: its short name (`order`, `payment`, … as in its queues and logs).
 *
 * Not `service` and no `instance`, so as not to collide with the labels Prometheus itself sets. `instance` is every
 * target's address, and a ServiceMonitor adds `service` (the Kubernetes Service's name), `pod`, `namespace` and
 * `job`; a metric label of the same name is renamed `exported_…` on ingestion, or with `honorLabels` overwrites the
 * target's own. The replica needs no label of ours: Prometheus's `instance` (and `pod`) already tell replicas apart,
 * wherever it runs. The service name does: outside Kubernetes (compose, a VM, `npm run up`) nothing else says which
 * service a target is, and the dashboard and the alerts select and group by it everywhere the same.
 */
export const SERVICE_LABEL = 'orderflow_service';

/** The service's Prometheus registry; every metric carries the `orderflow_service` label (SERVICE_LABEL). */
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
  /** `commit`: the git commit the build came from (ORDERFLOW_COMMIT), shown in `orderflow_build_info`. */
  static forService(identity: ServiceIdentity, build: { commit?: string } = {}): DynamicModule {
    const registry = new MetricsRegistry();
    registry.setDefaultLabels({ [SERVICE_LABEL]: identity.name });
    collectDefaultMetrics({ register: registry });
    exportBuildInfo(registry, { version: identity.version, commit: build.commit });
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: MetricsRegistry, useValue: registry },
        { provide: HttpMetrics, useValue: new HttpMetrics(registry) },
        { provide: DatabasePoolMetrics, useValue: new DatabasePoolMetrics(registry) },
      ],
      exports: [MetricsRegistry, DatabasePoolMetrics],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
