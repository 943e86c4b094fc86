// Database per service: each service's login role reaches its own database, owns its schema, and nothing else.
import pg from 'pg';
import { SERVICE_NAMES } from '@orderflow/platform';
import { testEnvironment } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';

function urlFor(service: (typeof SERVICE_NAMES)[number], database: string): string {
  const url = new URL(testEnvironment.databaseUrl(service));
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

describe.each(SERVICE_NAMES.map((s) => [s]))('%s service database role', (service) => {
  it('can create tables in its own database', async () => {
    await withClient(testEnvironment.databaseUrl(service), async (client) => {
      const { rows } = await client.query('SELECT current_user, current_database()');
      expect(rows[0]).toEqual({ current_user: `orderflow_${service}`, current_database: `orderflow_${service}` });
      await client.query('CREATE TEMP TABLE isolation_probe (id int)');
      await client.query('CREATE TABLE IF NOT EXISTS isolation_probe_owned (id int)');
      await client.query('DROP TABLE isolation_probe_owned');
    });
  });

  it('cannot connect to any other service’s database', async () => {
    const others = SERVICE_NAMES.filter((s) => s !== service).map((s) => `orderflow_${s}`);
    for (const database of others) {
      await expect(withClient(urlFor(service, database), () => Promise.resolve())).rejects.toThrow(
        /permission denied|CONNECT privilege/,
      );
    }
  });

  it('cannot connect to the server’s own databases either', async () => {
    for (const database of ['postgres', 'template1']) {
      await expect(
        withClient(urlFor(service, database), () => Promise.resolve()),
        database,
      ).rejects.toThrow(/permission denied|CONNECT privilege/);
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

  it('holds no administrative power', async () => {
    await withClient(testEnvironment.databaseUrl(service), async (client) => {
      const { rows } = await client.query(
        'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user',
      );
      expect(rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
    });
  });
});
