/**
 * The broker topology, generated from the routing in libs/contracts — the one source of truth. The same function
 * feeds the RabbitMQ definitions file (imported by `npm run up` through the management API, or by a broker at
 * boot), the Kubernetes Messaging Topology Operator resources, the AsyncAPI document and the services' start-up
 * check, so none of them can drift from the others.
 *
 * - Commands go to `orderflow.commands`, events to `orderflow.events`; the routing key is the message's wire type,
 *   and each queue is bound to exactly the types it receives.
 * - Every queue is a durable quorum queue `<service>.<purpose>` with a dead-letter queue `<queue>.dlq` beside it.
 * - `orderflow.retry` (routing key = queue name) puts a message back on one queue: delayed retries and dead-letter
 *   replays use it. `orderflow.dead-letters` (routing key = queue name) feeds the DLQs.
 * - Every exchange is a topic exchange, though each binding names one exact key, because RabbitMQ authorises routing
 *   keys per user only on topic exchanges: that is how the broker lets each service send only what it owns
 *   (`brokerPermissions` below, ADR 0016).
 * - A policy per queue sets a delivery limit (RabbitMQ 3.10 has none by default) and at-least-once dead-lettering,
 *   so a message that crashes its consumer over and over still ends in its DLQ, never lost.
 * - A policy per DLQ sets a delivery limit no operator reaches. RabbitMQ 4.x gives every quorum queue without one a
 *   limit of 20, and a DLQ has nowhere to dead-letter to: listing dead letters returns each one it reads to the
 *   queue, which counts as a delivery, so on 4.x some 20 looks would silently drop a dead letter (ADR 0018).
 */
import type { MessageType, Routing } from '@orderflow/contracts';

export const EXCHANGES = {
  commands: 'orderflow.commands',
  events: 'orderflow.events',
  retry: 'orderflow.retry',
  deadLetters: 'orderflow.dead-letters',
} as const;

export const DEFAULT_DELIVERY_LIMIT = 10;
/**
 * A dead-letter queue's delivery limit: explicit, so that RabbitMQ 4.x's default of 20 does not apply, and far above
 * the number of times operators list a DLQ. A number both 3.10 and 4.x accept (4.x's `-1`, no limit, is newer).
 */
export const DEAD_LETTER_QUEUE_DELIVERY_LIMIT = 1_000_000;

export interface ExchangeSpec {
  name: string;
  type: 'topic';
  summary: string;
}
export interface QueueSpec {
  name: string;
  service: string;
  summary: string;
  deadLetterQueue: string;
  isDeadLetterQueue: false;
}
export interface DeadLetterQueueSpec {
  name: string;
  service: string;
  summary: string;
  forQueue: string;
  isDeadLetterQueue: true;
}
export interface BindingSpec {
  exchange: string;
  queue: string;
  routingKey: string;
}
export interface PolicySpec {
  name: string;
  pattern: string;
  definition: Record<string, string | number>;
}

export interface Topology {
  vhost: string;
  exchanges: ExchangeSpec[];
  queues: (QueueSpec | DeadLetterQueueSpec)[];
  bindings: BindingSpec[];
  policies: PolicySpec[];
}

export function exchangeFor(messageType: Pick<MessageType, 'kind'>): string {
  return messageType.kind === 'command' ? EXCHANGES.commands : EXCHANGES.events;
}

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function buildTopology(
  routing: Routing,
  { vhost = 'orderflow', deliveryLimit = DEFAULT_DELIVERY_LIMIT } = {},
): Topology {
  const exchanges: ExchangeSpec[] = [
    {
      name: EXCHANGES.commands,
      type: 'topic',
      summary: 'Commands, routed by wire type to the one queue that owns them',
    },
    { name: EXCHANGES.events, type: 'topic', summary: 'Events, routed by wire type to every subscribing queue' },
    {
      name: EXCHANGES.retry,
      type: 'topic',
      summary: 'Puts a message back on one queue (delayed retries, DLQ replays)',
    },
    {
      name: EXCHANGES.deadLetters,
      type: 'topic',
      summary: 'Routes failed messages to the dead-letter queue of their queue',
    },
  ];
  const queues: Topology['queues'] = [];
  const bindings: BindingSpec[] = [];
  const policies: PolicySpec[] = [];
  for (const route of routing.queues) {
    const dlq = deadLetterQueueOf(route.name);
    queues.push({
      name: route.name,
      service: route.service,
      summary: route.summary,
      deadLetterQueue: dlq,
      isDeadLetterQueue: false,
    });
    queues.push({
      name: dlq,
      service: route.service,
      summary: `Messages ${route.name} could not handle`,
      forQueue: route.name,
      isDeadLetterQueue: true,
    });
    for (const messageType of route.receives) {
      bindings.push({ exchange: exchangeFor(messageType), queue: route.name, routingKey: messageType.type });
    }
    bindings.push({ exchange: EXCHANGES.retry, queue: route.name, routingKey: route.name });
    bindings.push({ exchange: EXCHANGES.deadLetters, queue: dlq, routingKey: route.name });
    policies.push({
      name: `orderflow.${route.name}`,
      pattern: `^${escapeRegExp(route.name)}$`,
      definition: {
        'delivery-limit': deliveryLimit,
        'dead-letter-exchange': EXCHANGES.deadLetters,
        'dead-letter-routing-key': route.name,
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      },
    });
    policies.push({
      name: `orderflow.${dlq}`,
      pattern: `^${escapeRegExp(dlq)}$`,
      definition: { 'delivery-limit': DEAD_LETTER_QUEUE_DELIVERY_LIMIT },
    });
  }
  return { vhost, exchanges, queues, bindings, policies };
}

/** The queues a service consumes from (not their DLQs). */
export function queuesOf(topology: Topology, service: string): QueueSpec[] {
  return topology.queues.filter((q): q is QueueSpec => q.service === service && !q.isDeadLetterQueue);
}

/** RabbitMQ's definitions format, for `load_definitions` at boot or `POST /api/definitions/<vhost>`. */
export function toRabbitDefinitions(topology: Topology): Record<string, unknown> {
  const { vhost } = topology;
  return {
    vhosts: [{ name: vhost, metadata: { description: 'orderflow', default_queue_type: 'quorum' } }],
    exchanges: topology.exchanges.map((e) => ({
      name: e.name,
      vhost,
      type: e.type,
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: topology.queues.map((q) => ({
      name: q.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: { 'x-queue-type': 'quorum' },
    })),
    bindings: topology.bindings.map((b) => ({
      source: b.exchange,
      vhost,
      destination: b.queue,
      destination_type: 'queue',
      routing_key: b.routingKey,
      arguments: {},
    })),
    policies: topology.policies.map((p) => ({
      vhost,
      name: p.name,
      pattern: p.pattern,
      'apply-to': 'queues',
      priority: 1,
      definition: p.definition,
    })),
  };
}

/** One service's broker user rights on the vhost: standard permissions plus topic permissions on the event exchange. */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
  topic: { exchange: string; write: string; read: string }[];
}

/**
 * Least privilege on the broker, derived from the routing so it cannot drift from what a service really does. A
 * service declares nothing (topology is imported by operators), writes only to orderflow's exchanges, reads only
 * its own queues — and, by topic permissions on every exchange, sends only what it owns: on `orderflow.commands`
 * and `orderflow.events` the types the routing says it publishes, on `orderflow.retry` and `orderflow.dead-letters`
 * only its own queues' names. A compromised warehouse can neither announce that a payment was captured nor put a
 * refund into the payment service's queue by way of a retry. Consumers check the same ownership again on every
 * delivery (`PublisherCheck`), from the `user_id` the broker verified.
 */
export function brokerPermissions(routing: Routing): Record<string, BrokerPermissions> {
  const only = (keys: readonly string[]) =>
    // `^$` matches no routing key: a service that owns nothing of a kind sends nothing there.
    keys.length ? `^(${keys.map(escapeRegExp).join('|')})$` : '^$';
  return Object.fromEntries(
    Object.entries(routing.publishes).map(([service, types]) => {
      const ownQueues = routing.queues.filter((q) => q.service === service).map((q) => q.name);
      const sent = (exchange: string) => types.filter((t) => exchangeFor(t) === exchange).map((t) => t.type);
      return [
        service,
        {
          configure: '^$',
          write: '^orderflow\\.',
          read: `^${escapeRegExp(service)}\\.`,
          topic: [
            { exchange: EXCHANGES.commands, write: only(sent(EXCHANGES.commands)), read: '.*' },
            { exchange: EXCHANGES.events, write: only(sent(EXCHANGES.events)), read: '.*' },
            { exchange: EXCHANGES.retry, write: only(ownQueues), read: '.*' },
            { exchange: EXCHANGES.deadLetters, write: only(ownQueues), read: '.*' },
          ],
        },
      ];
    }),
  );
}
