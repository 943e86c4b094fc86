/**
 * How each piece of a service's messaging is built from its configuration and the routing, one group per seam: what
 * the routing says the service sends and receives, its broker connection, its outbox (relay, pruner and the entry
 * point for work that starts outside a message), and the tools around them (metrics, dead letters). The messaging
 * module (messaging.module.ts) composes them and runs their lifecycle.
 *
 * Guarantee: a service starts only as the broker user named after it (ADR 0016), since every other service refuses
 * the messages of any other user; and its units of work may state only the message types the routing says it
 * publishes, so a message its receivers do not expect from it never reaches the outbox.
 */
import { Logger, type Provider } from '@nestjs/common';
import type { MessageType, Routing } from '@orderflow/contracts';
import {
  type BaseConfig,
  DatabasePoolMetrics,
  MetricsRegistry,
  SERVICE_CONFIG,
  ServiceIdentity,
} from '@orderflow/platform';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { BrokerConnection } from './broker/broker-connection.js';
import { brokerUserOfService, publisherCheckFor } from './consumer/publisher-check.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { Messaging } from './messaging.js';
import type { MessagingConfig } from './messaging-config.js';
import { MessagingMetrics } from './metrics/messaging-metrics.js';
import { OutboxPruner } from './outbox/outbox-pruner.js';
import { OutboxRelay, relayPool } from './outbox/outbox-relay.js';
import { buildTopology, queuesOf, type Topology } from './topology/topology.js';

export type Config = BaseConfig & MessagingConfig;

export const TOPOLOGY = Symbol('TOPOLOGY');
export const PUBLISHABLE_TYPES = Symbol('PUBLISHABLE_TYPES');
export const RELAY_POOL = Symbol('RELAY_POOL');
export const PUBLISHER_CHECK = Symbol('PUBLISHER_CHECK');
const PG_POOL = Symbol('PG_POOL');

/** What the routing says of this service: the broker topology, and the message types it may publish. */
export function routingProviders(routing: Routing): Provider[] {
  return [
    { provide: TOPOLOGY, useValue: buildTopology(routing) },
    {
      provide: PUBLISHABLE_TYPES,
      inject: [ServiceIdentity],
      useFactory: (identity: ServiceIdentity) =>
        new Set((routing.publishes[identity.name] ?? []).map((m: MessageType) => m.type)),
    },
  ];
}

/** The service's one broker connection (opened in the background) and the check of who sent each delivery. */
export function brokerProviders(routing: Routing): Provider[] {
  return [
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
  ];
}

/**
 * The outbox's machinery: the relay on its own small pool, the pruner on the service's pool, and `Messaging`, through
 * which work that does not start from a message writes to the outbox and hands its rows to the relay.
 */
export function outboxProviders(): Provider[] {
  return [
    {
      provide: PG_POOL,
      inject: [DataSource],
      // TypeORM's own pool: the relay and pruner share the service's connections instead of opening more.
      useFactory: (dataSource: DataSource) => (dataSource.driver as unknown as { master: pg.Pool }).master,
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
  ];
}

/** What operators use: the messaging metrics (read from the service's pool) and the dead-letter tools. */
export function operatorProviders(): Provider[] {
  return [
    {
      provide: MessagingMetrics,
      inject: [MetricsRegistry, PG_POOL, BrokerConnection],
      useFactory: (registry: MetricsRegistry, pool: pg.Pool, broker: BrokerConnection) =>
        new MessagingMetrics(registry, pool, () => broker.isOpen),
    },
    {
      provide: DeadLetters,
      inject: [BrokerConnection, TOPOLOGY, ServiceIdentity],
      useFactory: (broker: BrokerConnection, topology: Topology, identity: ServiceIdentity) =>
        new DeadLetters(broker, new Map(queuesOf(topology, identity.name).map((q) => [q.name, q.deadLetterQueue]))),
    },
  ];
}
