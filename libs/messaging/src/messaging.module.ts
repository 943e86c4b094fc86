/**
 * Everything a service needs to send and receive messages safely: the broker connection, the outbox relay and
 * pruner, one consumer per queue of the service (its handlers found at boot, handle-message.decorator.ts),
 * dead-letter tools, metrics, and readiness. The broker is connected in the background: a service started while the
 * broker is away serves its HTTP API and writes to its outbox, and on every connection checks the broker topology
 * first, then attaches its consumers. Shutdown stops consumers (in-flight batches finish and acknowledge), drains the relay, then closes the
 * connection.
 *
 * Readiness: the broker and the outbox are degradable dependencies (shown, never red). The outbox exists to hold
 * messages while the broker is away, and every replica shares the broker, so taking replicas out of their load
 * balancer for it would turn a broker outage into an outage of the whole API; the backlog is bounded by load
 * shedding instead.
 */
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { ORDERFLOW_ROUTING, type MessageType, type Routing } from '@orderflow/contracts';
import {
  type BaseConfig,
  DatabasePoolMetrics,
  MetricsRegistry,
  Readiness,
  SERVICE_CONFIG,
  ServiceIdentity,
} from '@orderflow/platform';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { BrokerConnection } from './broker/broker-connection.js';
import { collectMessageHandlers } from './consumer/handle-message.decorator.js';
import type { MessageHandlerFn } from './consumer/incoming-message.js';
import { brokerUserOfService, type PublisherCheck, publisherCheckFor } from './consumer/publisher-check.js';
import { QueueConsumer } from './consumer/queue-consumer.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { DeadLettersController } from './dead-letters/dead-letters.controller.js';
import { Messaging } from './messaging.js';
import type { MessagingConfig } from './messaging-config.js';
import { MessagingMetrics } from './metrics/messaging-metrics.js';
import { OutboxPruner } from './outbox/outbox-pruner.js';
import { OutboxRelay, relayPool } from './outbox/outbox-relay.js';
import { checkTopology } from './topology/topology-check.js';
import { buildTopology, queuesOf, type Topology } from './topology/topology.js';

type Config = BaseConfig & MessagingConfig;

export const TOPOLOGY = Symbol('TOPOLOGY');
export const PUBLISHABLE_TYPES = Symbol('PUBLISHABLE_TYPES');
const PG_POOL = Symbol('PG_POOL');
const RELAY_POOL = Symbol('RELAY_POOL');
const PUBLISHER_CHECK = Symbol('PUBLISHER_CHECK');

@Module({})
export class MessagingModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private readonly consumers: QueueConsumer[] = [];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    private readonly identity: ServiceIdentity,
    private readonly broker: BrokerConnection,
    private readonly relay: OutboxRelay,
    private readonly pruner: OutboxPruner,
    private readonly metrics: MessagingMetrics,
    private readonly readiness: Readiness,
    private readonly dataSource: DataSource,
    private readonly discovery: DiscoveryService,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    @Inject(PUBLISHABLE_TYPES) private readonly publishableTypes: ReadonlySet<string>,
    @Inject(RELAY_POOL) private readonly relayConnections: pg.Pool,
    @Inject(PUBLISHER_CHECK) private readonly publishers: PublisherCheck,
  ) {}

  static forService(routing: Routing = ORDERFLOW_ROUTING): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule],
      controllers: [DeadLettersController],
      providers: [
        { provide: TOPOLOGY, useValue: buildTopology(routing) },
        {
          provide: PUBLISHABLE_TYPES,
          inject: [ServiceIdentity],
          useFactory: (identity: ServiceIdentity) =>
            new Set((routing.publishes[identity.name] ?? []).map((m: MessageType) => m.type)),
        },
        {
          provide: BrokerConnection,
          inject: [SERVICE_CONFIG, ServiceIdentity],
          useFactory: async (config: Config, identity: ServiceIdentity) => {
            const connection = new BrokerConnection({
              url: config.AMQP_URL,
              connectionName: identity.instance,
              product: 'orderflow',
              version: identity.version,
              logger: new Logger('Broker'),
            });
            await connection.startInBackground();
            return connection;
          },
        },
        {
          provide: PUBLISHER_CHECK,
          inject: [ServiceIdentity, BrokerConnection],
          useFactory: (identity: ServiceIdentity, broker: BrokerConnection) => {
            // Consumers know each sender by its broker user, named after its service (ADR 0016): a service connected
            // as another user would have every message it sends refused by the others.
            const expected = brokerUserOfService(identity.name);
            if (broker.user !== expected) {
              throw new Error(
                `AMQP_URL connects as broker user '${broker.user}'; the ${identity.name} service must connect as '${expected}'`,
              );
            }
            return publisherCheckFor(routing, identity.name);
          },
        },
        {
          provide: PG_POOL,
          inject: [DataSource],
          // TypeORM's own pool: the relay and pruner share the service's connections instead of opening more.
          useFactory: (dataSource: DataSource) => (dataSource.driver as unknown as { master: pg.Pool }).master,
        },
        {
          provide: MessagingMetrics,
          inject: [MetricsRegistry, PG_POOL, BrokerConnection],
          useFactory: (registry: MetricsRegistry, pool: pg.Pool, broker: BrokerConnection) =>
            new MessagingMetrics(registry, pool, () => broker.isOpen),
        },
        {
          provide: RELAY_POOL,
          inject: [SERVICE_CONFIG, ServiceIdentity, DatabasePoolMetrics],
          useFactory: (config: Config, identity: ServiceIdentity, poolMetrics: DatabasePoolMetrics) => {
            const pool = relayPool(
              config.DATABASE_URL,
              config.RELAY_WORKERS,
              `${identity.instance}/relay`,
              config.DATABASE_PREPARED_STATEMENTS,
            );
            poolMetrics.add('relay', pool);
            return pool;
          },
        },
        {
          provide: OutboxRelay,
          inject: [RELAY_POOL, BrokerConnection, SERVICE_CONFIG, MessagingMetrics],
          useFactory: (pool: pg.Pool, broker: BrokerConnection, config: Config, metrics: MessagingMetrics) =>
            new OutboxRelay(pool, broker, new Logger('OutboxRelay'), metrics, {
              batchSize: config.RELAY_BATCH_SIZE,
              workers: config.RELAY_WORKERS,
              keepSent: config.OUTBOX_RETENTION_HOURS > 0,
            }),
        },
        {
          provide: OutboxPruner,
          inject: [PG_POOL, SERVICE_CONFIG],
          useFactory: (pool: pg.Pool, config: Config) => {
            const logger = new Logger('OutboxPruner');
            return new OutboxPruner(
              pool,
              {
                outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
                inboxRetentionMs: config.INBOX_RETENTION_DAYS * 86_400_000,
                batchSize: 1_000,
                intervalMs: 60_000,
              },
              (err) => logger.warn({ message: 'prune failed; next run retries', reason: err.message }),
            );
          },
        },
        {
          provide: Messaging,
          inject: [DataSource, OutboxRelay, ServiceIdentity, PUBLISHABLE_TYPES],
          useFactory: (dataSource: DataSource, relay: OutboxRelay, identity: ServiceIdentity, types: Set<string>) =>
            new Messaging(dataSource, relay, identity.name, types),
        },
        {
          provide: DeadLetters,
          inject: [BrokerConnection, TOPOLOGY, ServiceIdentity],
          useFactory: (broker: BrokerConnection, topology: Topology, identity: ServiceIdentity) =>
            new DeadLetters(broker, new Map(queuesOf(topology, identity.name).map((q) => [q.name, q.deadLetterQueue]))),
        },
      ],
      exports: [BrokerConnection, Messaging, DeadLetters, TOPOLOGY],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.onConnected((model) => checkTopology(model, this.topology, this.identity.name));
    this.readiness.register(
      'broker',
      () => {
        if (!this.broker.isOpen) throw new Error('not connected to the broker; messages wait in the outbox');
      },
      'degradable',
    );
    this.readiness.register(
      'outbox',
      async () => {
        const stats = await this.metrics.outboxStats();
        if (stats.oldest_age_seconds > this.config.OUTBOX_READY_MAX_AGE_SECONDS) {
          throw new Error(`${stats.pending} unsent; the oldest is ${Math.round(stats.oldest_age_seconds)} s old`);
        }
        return { pending: stats.pending };
      },
      'degradable',
    );
    this.relay.start();
    this.pruner.start();
    for (const consumer of this.createConsumers()) {
      await consumer.start();
      this.consumers.push(consumer);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    // Away, the broker can confirm nothing: closing now ends the relay's wait for a channel, and the rows it held go
    // back to the outbox for another replica or the next start. Otherwise the relay finishes its batches first.
    if (!this.broker.isOpen) await this.broker.close();
    await this.relay.stop();
    await this.relayConnections.end();
    await this.pruner.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }

  private createConsumers(): QueueConsumer[] {
    const providers = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is object => typeof instance === 'object' && instance !== null);
    const handlers = collectMessageHandlers(providers);
    const queues = queuesOf(this.topology, this.identity.name);
    const routing = new Map<string, Map<string, MessageHandlerFn>>();
    for (const [type, handler] of handlers) {
      const queue = queues.find((q) => this.topology.bindings.some((b) => b.queue === q.name && b.routingKey === type));
      if (!queue)
        throw new Error(`a handler for ${type} exists, but no queue of the ${this.identity.name} service receives it`);
      if (!routing.has(queue.name)) routing.set(queue.name, new Map());
      routing.get(queue.name)!.set(type, handler);
    }
    return [...routing].map(
      ([queue, byType]) =>
        new QueueConsumer(
          {
            queue,
            service: this.identity.name,
            instance: this.identity.instance,
            handlers: byType,
            publishableTypes: this.publishableTypes,
            dataSource: this.dataSource,
            broker: this.broker,
            publishers: this.publishers,
            outbox: this.relay,
            logger: new Logger(`Consumer ${queue}`),
            observer: this.metrics,
          },
          {
            prefetch: this.config.CONSUMER_PREFETCH,
            lanes: this.config.CONSUMER_LANES,
            maxBatch: this.config.CONSUMER_MAX_BATCH,
            retry: {
              maxAttempts: this.config.RETRY_MAX_ATTEMPTS,
              baseDelayMs: this.config.RETRY_BASE_DELAY_MS,
              maxDelayMs: this.config.RETRY_MAX_DELAY_MS,
            },
          },
        ),
    );
  }
}
