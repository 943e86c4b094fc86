/**
 * What one run of the messaging benchmark stands on, made fresh and dropped after: a RabbitMQ vhost holding the
 * topology generated from a one-queue routing (the same generator the services' topology comes from), and one
 * PostgreSQL database per variant migrated with the services' own messaging tables plus the benchmark's tables.
 */
import { StockReserved, type Routing } from '@orderflow/contracts';
import { buildTopology, CreateMessagingTables1763900000000, toRabbitDefinitions } from '@orderflow/messaging';
import { PreparingClient } from '@orderflow/platform';
import pg from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

export const BENCH_SERVICE = 'bench';
/** Receives the reliable and the unsafe variant's messages: a durable quorum queue, as every service queue is. */
export const BENCH_QUEUE = 'bench.effects';
/** The broker ceiling's queue: classic, non-durable. */
export const CEILING_QUEUE = 'bench.ceiling';

/** A real contract event (`warehouse.stock-reserved.v1`, data `{ orderId }`), published by the bench service. */
export const BenchEvent = StockReserved;

export const benchRouting: Routing = {
  queues: [
    {
      name: BENCH_QUEUE,
      service: BENCH_SERVICE,
      summary: 'Effects the benchmark applies, one per order',
      receives: [BenchEvent],
    },
  ],
  publishes: { [BENCH_SERVICE]: [BenchEvent] },
};

export const INSERT_ORDER_SQL = 'INSERT INTO bench_orders (id, run, producer) VALUES ($1, $2, $3)';
export const INSERT_EFFECT_SQL = 'INSERT INTO bench_effects (order_id, message_id) VALUES ($1, $2)';

/** The business row a producer commits, and the effect a consumer applies for it. */
export class CreateBenchTables1763990000000 implements MigrationInterface {
  name = 'CreateBenchTables1763990000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE bench_orders (
        id uuid PRIMARY KEY,
        run text NOT NULL,
        producer integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    // Deliberately no unique constraint on order_id: an effect applied twice must show up as two rows.
    await queryRunner.query(`
      CREATE TABLE bench_effects (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id uuid NOT NULL,
        message_id uuid NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE bench_effects');
    await queryRunner.query('DROP TABLE bench_orders');
  }
}

export function benchDataSource(url: string, poolSize: number, applicationName: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: [CreateMessagingTables1763900000000, CreateBenchTables1763990000000],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    poolSize,
    applicationName,
    // As the services run (DATABASE_PREPARED_STATEMENTS defaults to true), for every variant alike.
    extra: { Client: PreparingClient },
  });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function withVhost(amqpUrl: string, vhost: string): string {
  const u = new URL(amqpUrl);
  u.pathname = `/${encodeURIComponent(vhost)}`;
  return u.toString();
}

/** Databases made through a superuser connection to the `postgres` database (PG_ADMIN_URL). */
export class DatabaseAdmin {
  private readonly created = new Set<string>();

  constructor(private readonly adminUrl: string) {}

  async create(database: string): Promise<string> {
    await this.run(`CREATE DATABASE "${database}"`);
    this.created.add(database);
    const url = withDatabase(this.adminUrl, database);
    const dataSource = benchDataSource(url, 1, 'bench-migrate');
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
    } finally {
      await dataSource.destroy();
    }
    return url;
  }

  async drop(database: string): Promise<void> {
    await this.run(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    this.created.delete(database);
  }

  async dropAll(): Promise<void> {
    for (const database of [...this.created]) await this.drop(database);
  }

  async serverVersion(): Promise<string> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      return rows[0].server_version;
    } finally {
      await client.end();
    }
  }

  private async run(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

/** A vhost made and removed through the management HTTP API. */
export class BrokerAdmin {
  constructor(
    private readonly url: string,
    private readonly user: string,
    private readonly password: string,
  ) {}

  /** The vhost with the bench topology imported, the admin user allowed on it, and the ceiling's queue declared. */
  async createVhost(vhost: string): Promise<void> {
    const path = encodeURIComponent(vhost);
    await this.request('PUT', `/vhosts/${path}`, { description: 'orderflow benchmark', default_queue_type: 'quorum' });
    await this.request('PUT', `/permissions/${path}/${encodeURIComponent(this.user)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    await this.request('POST', '/definitions', toRabbitDefinitions(buildTopology(benchRouting, { vhost })));
    await this.request('PUT', `/queues/${path}/${CEILING_QUEUE}`, {
      durable: false,
      auto_delete: false,
      arguments: { 'x-queue-type': 'classic' },
    });
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.request('DELETE', `/vhosts/${encodeURIComponent(vhost)}`, undefined, [404]);
  }

  async versions(): Promise<{ rabbitmq: string; erlang: string }> {
    const o = (await this.request('GET', '/overview')) as { rabbitmq_version: string; erlang_version: string };
    return { rabbitmq: o.rabbitmq_version, erlang: o.erlang_version };
  }

  private async request(method: string, path: string, body?: unknown, allowed: number[] = []): Promise<unknown> {
    const res = await fetch(`${this.url}/api${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok && !allowed.includes(res.status)) {
      throw new Error(`RabbitMQ management ${method} ${path}: ${res.status} ${await res.text()}`);
    }
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}
