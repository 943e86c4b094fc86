import { type DynamicModule, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { BaseConfig } from '../config/service-config.js';
import { Readiness } from '../health/readiness.js';
import { SERVICE_CONFIG } from '../platform.tokens.js';
import { ServiceIdentity } from '../service-identity.js';

/** What a service keeps in its own database: its entities and the migrations that build their schema. */
export interface ServiceSchema {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity classes
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration classes
  migrations: MixedList<Function | string>;
}

/**
 * The one place a service's PostgreSQL connection is described, shared by the running service and by the
 * `migrate` command, so that both see the same schema. The schema comes only from migrations: `synchronize` is off.
 */
export function dataSourceOptions(
  config: Pick<BaseConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  identity: ServiceIdentity,
  schema: ServiceSchema,
): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsTableName: 'typeorm_migrations',
    // One transaction per migration, so a failed one leaves the ones before it in place and itself undone.
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    poolSize: config.DATABASE_POOL_SIZE,
    // Shows which replica holds a connection in pg_stat_activity.
    applicationName: identity.instance,
    extra: { connectionTimeoutMillis: 5_000 },
  };
}

@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readiness: Readiness,
  ) {}

  static forService(schema: ServiceSchema): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [SERVICE_CONFIG, ServiceIdentity],
          useFactory: (config: BaseConfig, identity: ServiceIdentity) => ({
            ...dataSourceOptions(config, identity, schema),
            migrationsRun: config.DATABASE_MIGRATIONS_RUN ?? config.NODE_ENV !== 'production',
            // Fail start-up after a bounded wait rather than retry forever behind a green liveness probe.
            retryAttempts: 5,
            retryDelay: 2_000,
          }),
        }),
      ],
      exports: [TypeOrmModule],
    };
  }

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
  }
}
