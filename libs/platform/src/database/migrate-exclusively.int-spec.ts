// Replicas migrating at once (every pod's init container on a first deploy) take turns, against real PostgreSQL.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { testEnvironment } from '@orderflow/testing';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateExclusively } from './schema-migration.js';

class CreateParcels1700000000001 implements MigrationInterface {
  name = 'CreateParcels1700000000001';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE parcels (id int PRIMARY KEY)');
    // Long enough that a second runner decides this migration is pending while the first is still inside it.
    await runner.query('SELECT pg_sleep(0.5)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE parcels');
  }
}

class SeedParcels1700000000002 implements MigrationInterface {
  name = 'SeedParcels1700000000002';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('INSERT INTO parcels SELECT coalesce(max(id), 0) + 1 FROM parcels');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DELETE FROM parcels');
  }
}

const admin = () => new pg.Client({ connectionString: testEnvironment.postgresAdminUrl() });
const databases: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `it_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const client = admin();
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  databases.push(name);
  const url = new URL(testEnvironment.postgresAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

function replica(url: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: [CreateParcels1700000000001, SeedParcels1700000000002],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    poolSize: 3,
  });
}

async function withReplicas<T>(url: string, work: (a: DataSource, b: DataSource) => Promise<T>): Promise<T> {
  const [a, b] = [replica(url), replica(url)];
  await Promise.all([a.initialize(), b.initialize()]);
  try {
    return await work(a, b);
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

afterAll(async () => {
  const client = admin();
  await client.connect();
  for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
});

describe('migrateExclusively', () => {
  it('lets two replicas migrate at once: one applies every migration, the other finds none pending', async () => {
    const url = await freshDatabase();
    const applied = await withReplicas(url, (a, b) => Promise.all([migrateExclusively(a), migrateExclusively(b)]));
    expect(applied.flat().sort()).toEqual(['CreateParcels1700000000001', 'SeedParcels1700000000002']);
    const rows = await withReplicas(url, (a) => a.query<{ id: number }[]>('SELECT id FROM parcels'));
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('is needed: without the lock the same two replicas collide', async () => {
    const url = await freshDatabase();
    const outcomes = await withReplicas(url, (a, b) =>
      Promise.allSettled([a.runMigrations({ transaction: 'each' }), b.runMigrations({ transaction: 'each' })]),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
