import { type DynamicModule, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { BaseConfig } from '../config/service-config.js';
import { Readiness } from '../health/readiness.js';
import { SERVICE_CONFIG } from '../platform.tokens.js';
import { ServiceIdentity } from '../service-identity.js';
import { PreparingClient } from './prepared-statements.js';

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

const poolLogger = new Logger('Database');

/** Any constant: every replica of every service takes the same key, each in its own database. */
const MIGRATION_LOCK_KEY = 7_314_905_263;

/**
 * Runs pending migrations while holding a session-level advisory lock, so that replicas migrating at once (every pod's
 * init container on a first deploy) take turns: the first applies them, the others then find nothing pending.
 * Without it two runners both see a migration as pending and one fails half-way (or a data migration runs twice).
 */
export async function migrateExclusively(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
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
            // An idle pooled connection that PostgreSQL ends (a restart, a fail-over) is an 'error' on the pool, fatal
            // to the process if unheard. The pool drops that connection and the next query opens another; TypeORM's
            // own handler would only say so at a log level we do not enable.
            poolErrorHandler: (err: Error) =>
              poolLogger.warn({ message: 'database pool lost an idle connection', reason: err.message }),
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
