import { readFileSync } from 'node:fs';
import { ORDERFLOW_ROUTING, type Routing } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import {
  brokerPermissions,
  buildTopology,
  DEAD_LETTER_QUEUE_DELIVERY_LIMIT,
  DEFAULT_DELIVERY_LIMIT,
  EXCHANGES,
  exchangeFor,
  queuesOf,
  type QueueSpec,
  toRabbitDefinitions,
} from './topology.js';

const topology = buildTopology(ORDERFLOW_ROUTING);
const consumed = topology.queues.filter((q): q is QueueSpec => !q.isDeadLetterQueue);
const bound = (exchange: string, queue: string, routingKey: string) =>
  topology.bindings.filter((b) => b.exchange === exchange && b.queue === queue && b.routingKey === routingKey);

describe('buildTopology', () => {
  it('has the four exchanges, all topic exchanges (the only kind whose routing keys RabbitMQ authorises per user)', () => {
    expect(topology.exchanges.map((e) => [e.name, e.type])).toEqual([
      ['orderflow.commands', 'topic'],
      ['orderflow.events', 'topic'],
      ['orderflow.retry', 'topic'],
      ['orderflow.dead-letters', 'topic'],
    ]);
  });

  it('has a queue per route, each with a <queue>.dlq beside it, and nothing else', () => {
    expect(consumed.map((q) => q.name)).toEqual(ORDERFLOW_ROUTING.queues.map((q) => q.name));
    for (const queue of consumed) {
      expect(queue.deadLetterQueue).toBe(`${queue.name}.dlq`);
      expect(topology.queues).toContainEqual(
        expect.objectContaining({ name: `${queue.name}.dlq`, forQueue: queue.name, isDeadLetterQueue: true }),
      );
    }
    expect(topology.queues).toHaveLength(2 * ORDERFLOW_ROUTING.queues.length);
  });

  it('binds each queue to each type it receives, on the exchange of the type’s kind', () => {
    for (const route of ORDERFLOW_ROUTING.queues) {
      for (const messageType of route.receives) {
        const exchange = messageType.kind === 'command' ? EXCHANGES.commands : EXCHANGES.events;
        expect(exchangeFor(messageType)).toBe(exchange);
        expect(bound(exchange, route.name, messageType.type), `${route.name} ← ${messageType.type}`).toHaveLength(1);
      }
    }
  });

  it('binds each queue to orderflow.retry and its DLQ to orderflow.dead-letters, by the queue’s name', () => {
    for (const queue of consumed) {
      expect(bound(EXCHANGES.retry, queue.name, queue.name)).toHaveLength(1);
      expect(bound(EXCHANGES.deadLetters, queue.deadLetterQueue, queue.name)).toHaveLength(1);
    }
  });

  it('has no binding the routing does not ask for', () => {
    const received = ORDERFLOW_ROUTING.queues.reduce((n, q) => n + q.receives.length, 0);
    expect(topology.bindings).toHaveLength(received + 2 * ORDERFLOW_ROUTING.queues.length);
  });

  it('gives each queue a policy: delivery limit, at-least-once dead-lettering into its DLQ, reject-publish', () => {
    for (const queue of consumed) {
      const policies = topology.policies.filter((p) => new RegExp(p.pattern).test(queue.name));
      expect(policies, queue.name).toHaveLength(1);
      expect(policies[0].definition).toEqual({
        'delivery-limit': DEFAULT_DELIVERY_LIMIT,
        'dead-letter-exchange': EXCHANGES.deadLetters,
        'dead-letter-routing-key': queue.name,
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      });
    }
    expect(topology.policies).toHaveLength(2 * consumed.length);
  });

  // RabbitMQ 4.x gives a quorum queue without a delivery limit one of 20, and a DLQ has no dead-letter exchange: its
  // messages would be dropped after 20 returns (each listing of dead letters is one). 3.10 has no default, so only
  // an explicit limit behaves the same on both.
  it('gives each DLQ an explicit delivery limit no listing reaches, and no dead-lettering of its own', () => {
    for (const queue of consumed) {
      const policies = topology.policies.filter((p) => new RegExp(p.pattern).test(queue.deadLetterQueue));
      expect(policies, queue.deadLetterQueue).toHaveLength(1);
      expect(policies[0].definition).toEqual({ 'delivery-limit': DEAD_LETTER_QUEUE_DELIVERY_LIMIT });
    }
    expect(DEAD_LETTER_QUEUE_DELIVERY_LIMIT).toBeGreaterThanOrEqual(100_000);
  });

  it('sets every delivery limit explicitly, so that no broker default applies', () => {
    const limited = topology.policies.filter((p) => Number.isInteger(p.definition['delivery-limit']));
    expect(limited).toHaveLength(topology.queues.length);
    for (const queue of topology.queues) {
      expect(
        limited.filter((p) => new RegExp(p.pattern).test(queue.name)),
        queue.name,
      ).toHaveLength(1);
    }
  });

  it('matches each policy to its queue alone, not its DLQ nor a look-alike', () => {
    const [policy] = topology.policies.filter((p) => new RegExp(p.pattern).test('payment.commands'));
    const pattern = new RegExp(policy.pattern);
    expect(pattern.test('payment.commands.dlq')).toBe(false);
    expect(pattern.test('paymentXcommands')).toBe(false);
    expect(pattern.test('x.payment.commands')).toBe(false);
  });

  it('takes the vhost and the delivery limit as options', () => {
    const custom = buildTopology(ORDERFLOW_ROUTING, { vhost: 'test-1', deliveryLimit: 3 });
    expect(custom.vhost).toBe('test-1');
    const forConsumed = custom.policies.filter((p) => !p.name.endsWith('.dlq'));
    expect(forConsumed.length).toBeGreaterThan(0);
    expect(forConsumed.every((p) => p.definition['delivery-limit'] === 3)).toBe(true);
  });

  it('follows the routing it is given', () => {
    const [payment] = ORDERFLOW_ROUTING.queues;
    const routing: Routing = { queues: [{ ...payment, name: 'payment.urgent' }], publishes: {} };
    const small = buildTopology(routing);
    expect(small.queues.map((q) => q.name)).toEqual(['payment.urgent', 'payment.urgent.dlq']);
    expect(small.bindings.every((b) => b.queue.startsWith('payment.urgent'))).toBe(true);
  });
});

describe('queuesOf', () => {
  it('gives the queues a service consumes, not their DLQs', () => {
    expect(queuesOf(topology, 'saga').map((q) => q.name)).toEqual(['saga.events']);
    expect(queuesOf(topology, 'nobody')).toEqual([]);
  });
});

describe('toRabbitDefinitions', () => {
  const definitions = toRabbitDefinitions(topology) as {
    vhosts: { name: string; metadata: { default_queue_type: string } }[];
    queues: { name: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }[];
    policies: { 'apply-to': string }[];
  };

  it('declares durable quorum queues only', () => {
    expect(definitions.vhosts).toEqual([expect.objectContaining({ name: 'orderflow' })]);
    expect(definitions.vhosts[0].metadata.default_queue_type).toBe('quorum');
    expect(definitions.queues).toHaveLength(topology.queues.length);
    for (const queue of definitions.queues) {
      expect(queue, queue.name).toMatchObject({
        durable: true,
        auto_delete: false,
        arguments: { 'x-queue-type': 'quorum' },
      });
    }
    expect(definitions.policies.every((p) => p['apply-to'] === 'queues')).toBe(true);
  });

  it('is what deploy/rabbitmq/definitions.json holds (run npm run generate when this fails)', () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL('../../../../deploy/rabbitmq/definitions.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(definitions);
  });
});

describe('brokerPermissions', () => {
  const permissions = brokerPermissions(ORDERFLOW_ROUTING);
  const services = Object.keys(ORDERFLOW_ROUTING.publishes);
  /** Whether the service's topic permission on the exchange lets it publish with this routing key. */
  const maySend = (service: string, exchange: string, routingKey: string) => {
    const permission = permissions[service].topic.find((t) => t.exchange === exchange);
    expect(permission, `${service} has a topic permission on ${exchange}`).toBeDefined();
    return new RegExp(permission!.write).test(routingKey);
  };

  it('gives every service a topic permission on every exchange, so none is left open by default', () => {
    for (const service of services) {
      expect(permissions[service].topic.map((t) => t.exchange).sort()).toEqual(
        topology.exchanges.map((e) => e.name).sort(),
      );
    }
  });

  it('lets each command and event be sent by its publisher alone', () => {
    const types = services.flatMap((s) => ORDERFLOW_ROUTING.publishes[s]);
    expect(types.length).toBeGreaterThan(10);
    for (const type of types) {
      const senders = services.filter((s) => maySend(s, exchangeFor(type), type.type));
      const publisher = services.filter((s) => ORDERFLOW_ROUTING.publishes[s].includes(type));
      expect(senders, type.type).toEqual(publisher);
      // Nor on the other kind's exchange.
      const other = exchangeFor(type) === EXCHANGES.events ? EXCHANGES.commands : EXCHANGES.events;
      expect(
        services.filter((s) => maySend(s, other, type.type)),
        `${type.type} on ${other}`,
      ).toEqual([]);
    }
  });

  it('lets retries and dead letters be addressed to a queue by the service that owns it alone', () => {
    for (const queue of consumed) {
      for (const exchange of [EXCHANGES.retry, EXCHANGES.deadLetters]) {
        expect(
          services.filter((s) => maySend(s, exchange, queue.name)),
          `${queue.name} on ${exchange}`,
        ).toEqual([queue.service]);
        expect(services.filter((s) => maySend(s, exchange, `${queue.name}.dlq`))).toEqual([]);
      }
    }
  });
});
