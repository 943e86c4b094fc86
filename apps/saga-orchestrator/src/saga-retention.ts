/**
 * Retention of this service's finished sagas: prunes them once they are `SAGA_RETENTION_DAYS` old (see SagaPruner),
 * every `SAGA_PRUNE_INTERVAL_MS`, from start-up until shutdown, which waits for the current batch so that no delete
 * is cut off by the database pool closing.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { MetricsRegistry, SERVICE_CONFIG } from '@orderflow/platform';
import { countPrunedSagas, SagaPruner } from '@orderflow/saga';
import { DataSource } from 'typeorm';
import type { SagaServiceConfig } from './config.js';

@Injectable()
export class SagaRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SagaPruner');
  private readonly pruner: SagaPruner;

  constructor(@Inject(SERVICE_CONFIG) config: SagaServiceConfig, dataSource: DataSource, registry: MetricsRegistry) {
    this.pruner = new SagaPruner(dataSource, {
      retentionMs: config.SAGA_RETENTION_DAYS * 86_400_000,
      batchSize: 1_000,
      intervalMs: config.SAGA_PRUNE_INTERVAL_MS,
      onError: (err) => this.logger.warn({ message: 'saga prune failed; the next run retries', reason: err.message }),
      onPruned: countPrunedSagas(registry),
    });
  }

  onApplicationBootstrap(): void {
    this.pruner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.pruner.stop();
  }
}
