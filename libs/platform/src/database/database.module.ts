import { type DynamicModule, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { BaseConfig } from '../config/service-config.js';
import { Readiness } from '../health/readiness.js';
import { DatabasePoolMetrics, type PoolCounts } from '../metrics/process-metrics.js';
import { SERVICE_CONFIG } from '../platform.tokens.js';
import { ServiceIdentity } from '../service-identity.js';
import { dataSourceOptions, type ServiceSchema } from './data-source-options.js';
import { migrateSchema } from './schema-migration.js';

const poolLogger = new Logger('Database');

@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readiness: Readiness,
    private readonly poolMetrics: DatabasePoolMetrics,
  ) {}

  static forService(schema: ServiceSchema): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [SERVICE_CONFIG, ServiceIdentity],
          useFactory: async (config: BaseConfig, identity: ServiceIdentity) => {
            // Outside production a service brings its own schema up to date before it opens its pool, as the
            // migration role when it is given one (schema-migration.ts); production migrates in a deploy step.
            if (config.DATABASE_MIGRATIONS_RUN ?? config.NODE_ENV !== 'production') {
              const applied = await migrateSchema(config, identity, schema, 5);
              if (applied.length) poolLogger.log({ message: 'migrations applied', applied });
            }
            return {
              ...dataSourceOptions(config, identity, schema),
              // Fail start-up after a bounded wait rather than retry forever behind a green liveness probe.
              retryAttempts: 5,
              retryDelay: 2_000,
              // An idle pooled connection that PostgreSQL ends (a restart, a fail-over) is an 'error' on the pool, fatal
              // to the process if unheard. The pool drops that connection and the next query opens another; TypeORM's
              // own handler would only say so at a log level we do not enable.
              poolErrorHandler: (err: Error) =>
                poolLogger.warn({ message: 'database pool lost an idle connection', reason: err.message }),
            };
          },
        }),
      ],
      exports: [TypeOrmModule],
    };
  }

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
    // TypeORM's postgres driver keeps its pg.Pool as `master` (no replication configured); it exists once the
    // DataSource is initialised, which TypeOrmModule did before any module's init.
    this.poolMetrics.add('main', (this.dataSource.driver as unknown as { master: PoolCounts }).master);
  }
}
