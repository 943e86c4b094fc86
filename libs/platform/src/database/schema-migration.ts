/**
 * Applying a service's migrations, and what the service then runs as.
 *
 * Two PostgreSQL roles per service (ADR 0017): the **migration role** (`orderflow_<service>_migrator`, reached through
 * MIGRATION_DATABASE_URL) owns the database and every object its migrations create; the **runtime role**
 * (`orderflow_<service>`, DATABASE_URL) may only read and write rows. A compromised or buggy service can then neither
 * drop, alter nor create a table, nor weaken its own grants: the schema changes only in a deploy step.
 *
 * Guarantees:
 * - Migrations run one runner at a time per database (a session advisory lock), so replicas migrating at once take
 *   turns and each migration is applied once.
 * - After migrating, under the same lock, the migration role closes the database to PUBLIC and grants the runtime
 *   role exactly CONNECT, USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on its tables and USAGE/SELECT on its sequences — for the objects that exist
 *   and, by default privileges, for those later migrations create. The grants are re-applied on every run, so a
 *   database restored from a dump, or migrated by an older version, is put right by the next deploy.
 * - With no MIGRATION_DATABASE_URL (one role for both, as a single-role external database may have), migrations run as
 *   DATABASE_URL's role and nothing is granted.
 *
 * Hand-written because TypeORM's `migrationsRun` neither serialises concurrent runners nor knows two roles.
 */
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { BaseConfig } from '../config/service-config.js';
import type { ServiceIdentity } from '../service-identity.js';
import { dataSourceOptions, type ServiceSchema } from './data-source-options.js';

/** Any constant: every replica of every service takes the same key, each in its own database. */
const MIGRATION_LOCK_KEY = 7_314_905_263;

/**
 * Runs pending migrations while holding a session-level advisory lock, so that replicas migrating at once (every pod's
 * init container on a first deploy) take turns: the first applies them, the others then find nothing pending.
 * Without it two runners both see a migration as pending and one fails half-way (or a data migration runs twice).
 * `grantTo` names the runtime role to grant what it uses once the schema is current.
 */
export async function migrateExclusively(dataSource: DataSource, grantTo?: string): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      // Concurrent GRANTs on one object fail ("tuple concurrently updated"): they too wait for the lock.
      if (grantTo) await lock.query(runtimeGrants(grantTo, await currentDatabase(dataSource)));
      return applied.map((migration) => migration.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}

/** Rows in, rows out: everything the runtime role does, and nothing that changes the schema or the grants. */
export function runtimeGrants(role: string, database: string): string {
  const r = pg.escapeIdentifier(role);
  const d = pg.escapeIdentifier(database);
  return [
    // A database is open to every role by default (CloudNativePG's Database objects leave it so): only its own.
    `REVOKE ALL ON DATABASE ${d} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${d} TO ${r}`,
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`,
  ].join(';\n');
}

/** The role a connection URL logs in as, or undefined when it names none (libpq then takes PGUSER or the OS user). */
export function roleOf(url: string): string | undefined {
  const user = decodeURIComponent(new URL(url).username);
  return user || undefined;
}

/**
 * The `migrate` command and development start-up: connects as the migration role (else the runtime role), applies
 * what is pending, grants the runtime role its share, and disconnects. The few start-up retries cover a database that
 * is still starting beside the service (a laptop's `npm run up`, a pod scheduled before its database is ready).
 */
export async function migrateSchema(
  config: Pick<
    BaseConfig,
    'DATABASE_URL' | 'MIGRATION_DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_PREPARED_STATEMENTS'
  >,
  identity: ServiceIdentity,
  schema: ServiceSchema,
  connectAttempts = 1,
): Promise<string[]> {
  const url = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL;
  const runtimeRole = roleOf(config.DATABASE_URL);
  const grantTo = config.MIGRATION_DATABASE_URL && runtimeRole !== roleOf(url) ? runtimeRole : undefined;
  const dataSource = new DataSource({
    ...dataSourceOptions({ ...config, DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }, identity, schema),
    // Migrations are not the hot path; a plain client keeps their DDL out of per-connection statement caches.
    extra: { connectionTimeoutMillis: 5_000 },
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.initialize();
      break;
    } catch (err) {
      if (attempt >= connectAttempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
  try {
    return await migrateExclusively(dataSource, grantTo);
  } finally {
    await dataSource.destroy();
  }
}

async function currentDatabase(dataSource: DataSource): Promise<string> {
  const [row] = await dataSource.query<{ name: string }[]>('SELECT current_database() AS name');
  return row.name;
}
