/**
 * Everything a service needs to send and receive messages safely: the broker connection, the outbox relay and
 * pruner, one consumer per queue of the service (its handlers found at boot, handle-message.decorator.ts),
 * dead-letter tools, metrics, and readiness; how each piece is built is in messaging.providers.ts. The broker is
 * connected in the background: a service started while the broker is away serves its HTTP API and writes to its
 * outbox, and on every connection checks the broker topology first, then attaches its consumers. Shutdown stops
 * consumers (in-flight batches finish and acknowledge), drains the relay, then closes the connection.
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
import { ORDERFLOW_ROUTING, type Routing } from '@orderflow/contracts';
import { Readiness, SERVICE_CONFIG, ServiceIdentity } from '@orderflow/platform';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { BrokerConnection } from './broker/broker-connection.js';
import { collectMessageHandlers } from './consumer/handle-message.decorator.js';
import type { MessageHandlerFn } from './consumer/incoming-message.js';
import type { PublisherCheck } from './consumer/publisher-check.js';
import { type ConsumerOptions, QueueConsumer } from './consumer/queue-consumer.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { DeadLettersController } from './dead-letters/dead-letters.controller.js';
import { Messaging } from './messaging.js';
import {
  brokerProviders,
  type Config,
  operatorProviders,
  outboxProviders,
  PUBLISHABLE_TYPES,
  PUBLISHER_CHECK,
  RELAY_POOL,
  routingProviders,
  TOPOLOGY,
} from './messaging.providers.js';
import { MessagingMetrics } from './metrics/messaging-metrics.js';
import { OutboxPruner } from './outbox/outbox-pruner.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { checkTopology } from './topology/topology-check.js';
import { queuesOf, type Topology } from './topology/topology.js';

@Module({})
export class MessagingModule implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
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
        ...routingProviders(routing),
        ...brokerProviders(routing),
        ...outboxProviders(),
        ...operatorProviders(),
      ],
      exports: [BrokerConnection, Messaging, DeadLetters, TOPOLOGY],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.onConnected((model) => checkTopology(model, this.topology, this.identity.name));
    this.registerReadiness();
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

  /** The broker and the outbox, both degradable (see the opening block): shown, never red. */
  private registerReadiness(): void {
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
  }

  /** One consumer per queue of the service that receives a type it has a handler for. */
  private createConsumers(): QueueConsumer[] {
    const providers = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is object => typeof instance === 'object' && instance !== null);
    const handlers = handlersByQueue(collectMessageHandlers(providers), this.topology, this.identity.name);
    const options = consumerOptions(this.config);
    return [...handlers].map(
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
          options,
        ),
    );
  }
}

/** The service's handlers grouped by the queue of the service that receives their type; throws for a type none does. */
function handlersByQueue(
  handlers: ReadonlyMap<string, MessageHandlerFn>,
  topology: Topology,
  service: string,
): Map<string, Map<string, MessageHandlerFn>> {
  const queues = queuesOf(topology, service);
  const byQueue = new Map<string, Map<string, MessageHandlerFn>>();
  for (const [type, handler] of handlers) {
    const queue = queues.find((q) => topology.bindings.some((b) => b.queue === q.name && b.routingKey === type));
    if (!queue) throw new Error(`a handler for ${type} exists, but no queue of the ${service} service receives it`);
    let byType = byQueue.get(queue.name);
    if (!byType) {
      byType = new Map<string, MessageHandlerFn>();
      byQueue.set(queue.name, byType);
    }
    byType.set(type, handler);
  }
  return byQueue;
}

function consumerOptions(config: Config): ConsumerOptions {
  return {
    prefetch: config.CONSUMER_PREFETCH,
    lanes: config.CONSUMER_LANES,
    maxBatch: config.CONSUMER_MAX_BATCH,
    retry: {
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      baseDelayMs: config.RETRY_BASE_DELAY_MS,
      maxDelayMs: config.RETRY_MAX_DELAY_MS,
    },
  };
}
