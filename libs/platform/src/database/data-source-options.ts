import type { BaseConfig } from '../config/service-config.js';
import type { ServiceIdentity } from '../service-identity.js';
import { PreparingClient } from './prepared-statements.js';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';

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
  config: Pick<BaseConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_PREPARED_STATEMENTS'>,
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
    extra: {
      connectionTimeoutMillis: 5_000,
      ...(config.DATABASE_PREPARED_STATEMENTS && { Client: PreparingClient }),
    },
  };
}
