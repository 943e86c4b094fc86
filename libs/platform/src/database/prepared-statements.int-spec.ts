// Statements with parameters become prepared statements of their connection, through TypeORM as through a plain pool.
import { testEnvironment } from '@orderflow/testing';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparingClient } from './prepared-statements.js';

const PREPARED_SQL = 'SELECT statement FROM pg_prepared_statements ORDER BY statement';
// A pg client answers with a result, TypeORM with its rows.
const prepared = async (db: pg.PoolClient | { query: (sql: string) => Promise<unknown> }) => {
  const answer = (await db.query(PREPARED_SQL)) as { rows?: { statement: string }[] } | { statement: string }[];
  return (Array.isArray(answer) ? answer : (answer.rows ?? [])).map((r) => r.statement);
};

describe('PreparingClient', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ Client: PreparingClient, connectionString: testEnvironment.postgresAdminUrl(), max: 1 });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('prepares a statement with parameters once per connection and runs it again by name', async () => {
    const client = await pool.connect();
    try {
      for (const n of [1, 2, 3]) {
        const { rows } = await client.query<{ twice: number }>('SELECT $1::int * 2 AS twice', [n]);
        expect(rows[0].twice).toBe(n * 2);
      }
      expect(await prepared(client)).toEqual(['SELECT $1::int * 2 AS twice']);
    } finally {
      client.release();
    }
  });

  it('leaves statements without parameters to the simple protocol, several in one string included', async () => {
    const client = await pool.connect();
    try {
      const results = (await client.query('SELECT 1 AS one; SELECT 2 AS two')) as unknown as pg.QueryResult[];
      expect(results.map((r) => r.rows[0] as unknown)).toEqual([{ one: 1 }, { two: 2 }]);
      expect(await prepared(client)).not.toContain('SELECT 1 AS one; SELECT 2 AS two');
    } finally {
      client.release();
    }
  });

  it('serves TypeORM, whose pool takes the client class from extra.Client', async () => {
    const dataSource = await new DataSource({
      type: 'postgres',
      url: testEnvironment.postgresAdminUrl(),
      poolSize: 1,
      extra: { Client: PreparingClient },
    }).initialize();
    try {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        expect(await runner.query('SELECT $1::text AS word', ['prepared'])).toEqual([{ word: 'prepared' }]);
        await runner.rollbackTransaction();
        // Prepared statements outlive the transaction that prepared them.
        expect(await runner.query('SELECT $1::text AS word', ['again'])).toEqual([{ word: 'again' }]);
        expect(await prepared(runner)).toEqual(['SELECT $1::text AS word']);
      } finally {
        await runner.release();
      }
    } finally {
      await dataSource.destroy();
    }
  });
});
