// Database per service: each service's login role reaches its own database and its rows, nothing else; the schema
// belongs to the service's migration role (ADR 0017), which reaches nothing else either.
import pg from 'pg';
import { SERVICE_NAMES } from '@orderflow/platform';
import { testEnvironment } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';

function urlFor(roleUrl: string, database: string): string {
  const url = new URL(roleUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationUrl(service: (typeof SERVICE_NAMES)[number]): string {
  const url = testEnvironment.migrationDatabaseUrl(service);
  if (!url) throw new Error(`${service.toUpperCase()}_MIGRATION_DATABASE_URL is not set: npm test provisions it`);
  return url;
}

/** The tables `npm test` migrated before this layer (scripts/test.sh), with their owners. */
async function tablesOf(client: pg.Client): Promise<{ name: string; owner: string }[]> {
  const { rows } = await client.query<{ name: string; owner: string }>(
    "SELECT tablename AS name, tableowner AS owner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  return rows;
}

describe.each(SERVICE_NAMES.map((s) => [s]))('%s service database role', (service) => {
  it('reads and writes the rows of every table of its own database', async () => {
    await withClient(testEnvironment.databaseUrl(service), async (client) => {
      const { rows } = await client.query('SELECT current_user, current_database()');
      expect(rows[0]).toEqual({ current_user: `orderflow_${service}`, current_database: `orderflow_${service}` });
      const tables = await tablesOf(client);
      expect(tables.map((t) => t.name)).toContain('outbox_messages');
      // Each privilege asked for on its own: has_table_privilege with a list is true if any one of them is held.
      const { rows: missing } = await client.query(
        `SELECT tablename, privilege FROM pg_tables, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS privilege
          WHERE schemaname = 'public' AND NOT has_table_privilege(current_user, format('%I.%I', schemaname, tablename), privilege)`,
      );
      expect(missing).toEqual([]);
    });
  });

  it('cannot change its schema: tables, columns, grants and temporary tables are the migration role’s', async () => {
    await withClient(testEnvironment.databaseUrl(service), async (client) => {
      await expect(client.query('CREATE TABLE isolation_probe (id int)')).rejects.toThrow(
        /permission denied for schema public/,
      );
      await expect(client.query('ALTER TABLE outbox_messages ADD COLUMN isolation_probe int')).rejects.toThrow(
        /must be owner of table outbox_messages/,
      );
      await expect(client.query('DROP TABLE typeorm_migrations')).rejects.toThrow(/must be owner/);
      await expect(client.query('TRUNCATE outbox_messages')).rejects.toThrow(/permission denied/);
      await expect(client.query('CREATE TEMP TABLE isolation_probe (id int)')).rejects.toThrow(
        /permission denied to create temporary tables/,
      );
      const { rows } = await client.query(
        "SELECT count(*)::int AS granted FROM pg_tables WHERE schemaname = 'public' AND has_table_privilege(current_user, format('%I.%I', schemaname, tablename), 'TRUNCATE, REFERENCES, TRIGGER')",
      );
      expect(rows[0]).toEqual({ granted: 0 });
    });
  });

  it('leaves the database, and every table in it, to the migration role that built them', async () => {
    await withClient(migrationUrl(service), async (client) => {
      const { rows } = await client.query(
        'SELECT current_user, pg_get_userbyid(datdba) AS database_owner FROM pg_database WHERE datname = current_database()',
      );
      const migrator = `orderflow_${service}_migrator`;
      expect(rows[0]).toEqual({ current_user: migrator, database_owner: migrator });
      const tables = await tablesOf(client);
      expect(tables.length).toBeGreaterThan(3);
      expect(tables.filter((t) => t.owner !== migrator)).toEqual([]);
      // What its migrations do, it may do.
      await client.query('BEGIN');
      await client.query('CREATE TABLE isolation_probe (id int)');
      await client.query('ROLLBACK');
    });
  });

  it('cannot connect to any other service’s database, as either role', async () => {
    const others = SERVICE_NAMES.filter((s) => s !== service).map((s) => `orderflow_${s}`);
    for (const url of [testEnvironment.databaseUrl(service), migrationUrl(service)]) {
      for (const database of others) {
        await expect(
          withClient(urlFor(url, database), () => Promise.resolve()),
          database,
        ).rejects.toThrow(/permission denied|CONNECT privilege/);
      }
    }
  });

  it('cannot connect to the server’s own databases either, as either role', async () => {
    for (const url of [testEnvironment.databaseUrl(service), migrationUrl(service)]) {
      for (const database of ['postgres', 'template1']) {
        await expect(
          withClient(urlFor(url, database), () => Promise.resolve()),
          database,
        ).rejects.toThrow(/permission denied|CONNECT privilege/);
      }
    }
  });

  it('cannot reach another service’s tables from its own database', async () => {
    await withClient(testEnvironment.databaseUrl(service), async (client) => {
      const other = SERVICE_NAMES.find((s) => s !== service)!;
      // Cross-database references do not exist in PostgreSQL; dblink and postgres_fdw need an extension it cannot create.
      await expect(client.query(`SELECT * FROM orderflow_${other}.public.outbox_messages`)).rejects.toThrow(
        /cross-database references are not implemented/,
      );
      await expect(client.query('CREATE EXTENSION IF NOT EXISTS dblink')).rejects.toThrow(/permission denied/);
    });
  });

  it('holds no administrative power, as either role', async () => {
    for (const url of [testEnvironment.databaseUrl(service), migrationUrl(service)]) {
      await withClient(url, async (client) => {
        const { rows } = await client.query(
          'SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user',
        );
        expect(rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false });
      });
    }
  });
});
