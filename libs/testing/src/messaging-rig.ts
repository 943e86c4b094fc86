/**
 * A real messaging stack for integration tests: its own RabbitMQ vhost (topology imported from the same
 * definitions generator the broker uses in production) and its own PostgreSQL database (the same migrations the
 * services run), with the library's own relay, consumer and unit of work — nothing faked.
 */
import { randomUUID } from 'node:crypto';
import { type Routing, StockReleased, StockReserved } from '@orderflow/contracts';
import {
  amqpProperties,
  BrokerConnection,
  buildTopology,
  CLAIM_ONLY,
  type ConsumerOptions,
  type ConsumerObserver,
  CreateMessagingTables1763900000000,
  encode,
  envelope,
  type MessageHandlerFn,
  Messaging,
  type OutboxHandoff,
  OutboxKeepsItsPages1765100000000,
  OutboxRelay,
  type Outcome,
  type PublisherCheck,
  publisherCheckFor,
  QueueConsumer,
  type RelayObserver,
  type RelayOptions,
  relayPool,
  toRabbitDefinitions,
} from '@orderflow/messaging';
import pg from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { RabbitMqManagement } from './rabbitmq-management.js';
import { testEnvironment } from './test-environment.js';
import { waitFor } from './wait-for.js';

export const RIG_SERVICE = 'it';
export const RIG_QUEUE = 'it.effects';

/** One queue receiving two event types, so tests can check per-order ordering across types. */
export const RIG_ROUTING: Routing = {
  queues: [
    { name: RIG_QUEUE, service: RIG_SERVICE, summary: 'integration tests', receives: [StockReserved, StockReleased] },
  ],
  publishes: { [RIG_SERVICE]: [StockReserved, StockReleased] },
};

export class CreateRigTables1763900000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE business_rows (order_id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    // No unique constraint on purpose: a doubled effect must be countable.
    await queryRunner.query(`CREATE TABLE effects (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id uuid NOT NULL, message_id uuid NOT NULL, message_type text NOT NULL, attempt int NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE effects; DROP TABLE business_rows');
  }
}

// RIG_DEBUG=1 shows what the relay and consumers say while a test runs.
const log = (level: string) => (line: object) => {
  if (process.env.RIG_DEBUG) console.log(level, JSON.stringify(line));
};
const silent = { log: log('log'), warn: log('warn'), error: log('error') };

/** The default effect: one row per handled message. */
export const recordEffect: MessageHandlerFn<{ orderId: string }> = async (message, uow) => {
  await uow.manager.query('INSERT INTO effects (order_id, message_id, message_type, attempt) VALUES ($1, $2, $3, $4)', [
    message.data.orderId,
    message.id,
    message.type,
    message.attempt,
  ]);
};

export class OutcomeCounter implements ConsumerObserver {
  readonly counts: Record<Outcome, number> = { handled: 0, duplicate: 0, retried: 0, 'dead-lettered': 0 };
  /** Each handler time the consumer reported, in seconds. */
  readonly handlerTimes: number[] = [];
  outcome(_queue: string, _type: string, outcome: Outcome, count = 1): void {
    this.counts[outcome] += count;
  }
  handlerTook(_queue: string, _type: string, seconds: number): void {
    this.handlerTimes.push(seconds);
  }
}

export interface RigEnvironment {
  vhost: string;
  amqpUrl: string;
  databaseUrl: string;
}

export class MessagingRig {
  private readonly closers: (() => Promise<unknown>)[] = [];
  readonly management = new RabbitMqManagement();

  private constructor(
    readonly env: RigEnvironment,
    readonly dataSource: DataSource,
  ) {}

  /**
   * A fresh vhost with the rig's topology and a fresh, migrated database; `extraMigrations` add a library's own
   * tables (the saga engine's, say) to the messaging tables and the rig's.
   */
  static async create(extraMigrations: readonly MigrationClass[] = []): Promise<MessagingRig> {
    const id = randomUUID().slice(0, 8);
    const management = new RabbitMqManagement();
    const vhost = `it-${id}`;
    await management.put(`/vhosts/${vhost}`, {});
    await management.put(`/permissions/${vhost}/${encodeURIComponent(testEnvironment.management().user)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    await management.post(
      '/definitions',
      toRabbitDefinitions(buildTopology(RIG_ROUTING, { vhost, deliveryLimit: 10 })),
    );
    const amqpUrl = new URL(testEnvironment.amqpAdminUrl());
    amqpUrl.pathname = `/${vhost}`;

    const database = `it_${id}`;
    const admin = new pg.Client({ connectionString: testEnvironment.postgresAdminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const databaseUrl = new URL(testEnvironment.postgresAdminUrl());
    databaseUrl.pathname = `/${database}`;

    const dataSource = await openDataSource(databaseUrl.toString(), extraMigrations);
    await dataSource.runMigrations();
    const rig = new MessagingRig(
      { vhost, amqpUrl: amqpUrl.toString(), databaseUrl: databaseUrl.toString() },
      dataSource,
    );
    rig.closers.push(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      const cleanup = new pg.Client({ connectionString: testEnvironment.postgresAdminUrl() });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await cleanup.end();
      await management.delete(`/vhosts/${vhost}`);
    });
    return rig;
  }

  async broker(name = `${RIG_SERVICE}@rig-${randomUUID().slice(0, 6)}`): Promise<BrokerConnection> {
    const broker = new BrokerConnection({
      url: this.env.amqpUrl,
      connectionName: name,
      product: 'orderflow',
      version: 'test',
      logger: silent,
    });
    await broker.start();
    this.closers.unshift(() => broker.close());
    return broker;
  }

  /** A started relay; each has its own connection pool, as a separate replica would. */
  async relay(
    options: Partial<RelayOptions> = {},
    observer: RelayObserver = { published: () => undefined, failed: () => undefined },
  ): Promise<OutboxRelay> {
    const broker = await this.broker();
    const pool = relayPool(this.env.databaseUrl, options.workers ?? 2, 'it-relay');
    const relay = new OutboxRelay(pool, broker, silent, observer, {
      pollIntervalMs: 200,
      ...options,
    });
    relay.start();
    this.closers.unshift(async () => {
      await relay.stop();
      await pool.end();
    });
    return relay;
  }

  async consumer(
    options: {
      handler?: MessageHandlerFn<{ orderId: string }>;
      observer?: ConsumerObserver;
      broker?: BrokerConnection;
      /** Who may send what; by default the rig's own connections (the admin user's) send everything. */
      publishers?: PublisherCheck;
    } & Partial<ConsumerOptions> = {},
    /** Where committed outbox rows go: a relay (published at once), or a function woken to claim them. */
    outbox: OutboxHandoff | (() => void) = CLAIM_ONLY,
  ): Promise<QueueConsumer> {
    const { handler = recordEffect, observer = new OutcomeCounter(), broker, publishers, ...consumerOptions } = options;
    const handlers = new Map<string, MessageHandlerFn>([
      [StockReserved.type, handler as MessageHandlerFn],
      [StockReleased.type, handler as MessageHandlerFn],
    ]);
    const connection = broker ?? (await this.broker());
    const consumer = new QueueConsumer(
      {
        queue: RIG_QUEUE,
        service: RIG_SERVICE,
        instance: `${RIG_SERVICE}@rig`,
        handlers,
        publishableTypes: new Set([StockReserved.type, StockReleased.type]),
        dataSource: this.dataSource,
        broker: connection,
        // Every connection of the rig is the admin user's: it is the sender of everything the rig's routing sends.
        publishers: publishers ?? publisherCheckFor(RIG_ROUTING, RIG_SERVICE, () => connection.user),
        outbox: typeof outbox === 'function' ? { reservationMs: undefined, committed: outbox } : outbox,
        logger: silent,
        observer,
      },
      { retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 }, ...consumerOptions },
    );
    await consumer.start();
    this.closers.unshift(() => consumer.stop());
    return consumer;
  }

  /**
   * One StockReserved per order id, in that order, straight to the broker (no outbox, no relay), confirmed: for tests
   * that need deliveries to arrive together or in a chosen sequence.
   */
  async publishDirectly(orderIds: readonly string[]): Promise<void> {
    const broker = await this.broker();
    const channel = await broker.confirmChannel();
    for (const orderId of orderIds) {
      const event = envelope(StockReserved, orderId, { orderId }, { service: RIG_SERVICE, correlationId: orderId });
      channel.publish('orderflow.events', StockReserved.type, encode(event), {
        ...amqpProperties(event, RIG_SERVICE),
        userId: broker.user,
      });
    }
    await channel.waitForConfirms();
  }

  messaging(relay?: OutboxRelay): Messaging {
    return new Messaging(
      this.dataSource,
      relay ?? CLAIM_ONLY,
      RIG_SERVICE,
      new Set([StockReserved.type, StockReleased.type]),
    );
  }

  async effectsPerMessage(): Promise<Map<string, number>> {
    const rows = await this.dataSource.query<{ message_id: string; n: number }[]>(
      'SELECT message_id, count(*)::int AS n FROM effects GROUP BY message_id',
    );
    return new Map(rows.map((r) => [r.message_id, r.n]));
  }

  async count(sql: string): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(sql);
    return Number(rows[0].n);
  }

  /** Waits until the queue holds nothing, ready or unacknowledged. */
  async waitQueueEmpty(queue: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const q = await this.management.get<{ messages?: number }>(
          `/queues/${this.env.vhost}/${encodeURIComponent(queue)}`,
        );
        return q.messages === 0;
      },
      { timeoutMs, intervalMs: 250, what: `${queue} to be empty` },
    );
  }

  async dispose(): Promise<void> {
    for (const close of this.closers.splice(0)) await close().catch(() => undefined);
  }
}

/** Commits `count` business transactions, each a business row and, in order, a message of each given type. */
export async function produceOrders(messaging: Messaging, count: number, types = [StockReserved]): Promise<string[]> {
  const orderIds: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const orderId = randomUUID();
    await messaging.transaction(async (uow) => {
      await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [orderId]);
      for (const type of types) uow.publish(type.of({ orderId }));
    });
    orderIds.push(orderId);
  }
  return orderIds;
}

export type MigrationClass = new () => MigrationInterface;

export async function openDataSource(
  url: string,
  extraMigrations: readonly MigrationClass[] = [],
): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [
      CreateMessagingTables1763900000000,
      CreateRigTables1763900000001,
      OutboxKeepsItsPages1765100000000,
      ...extraMigrations,
    ],
    migrationsTableName: 'typeorm_migrations',
    poolSize: 10,
  });
  return dataSource.initialize();
}

export function poolOf(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as { master: pg.Pool }).master;
}
