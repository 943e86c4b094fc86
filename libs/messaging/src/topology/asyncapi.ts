/**
 * The AsyncAPI 3.0 document of orderflow's messaging, generated from the routing in libs/contracts and the topology
 * built from it, so it cannot name a queue, binding or schema that the broker and the services do not have.
 * `npm run generate` writes it to docs/asyncapi.yaml; `npm run generate -- --check` and asyncapi.spec.ts fail while
 * the committed file differs from what this returns. Every map is sorted, so the same input gives the same bytes.
 *
 * Shape, for a reader of the document:
 * - a channel per message type: its routing key (the wire type) on the exchange of its kind;
 * - per queue, four channels: the queue, its dead-letter queue, and its routing keys on `orderflow.retry` and
 *   `orderflow.dead-letters` (both keyed by the queue's name);
 * - operations: each service's sends (per `routing.publishes`), and per queue its receive, retry, dead-letter and
 *   dead-letter-queue receive, each tagged with the service that performs it;
 * - a message per type: the CloudEvents envelope with the type's data schema, and the AMQP headers orderflow sets.
 */
import type { MessageType, Routing } from '@orderflow/contracts';
import { jsonSchemaOf } from '@orderflow/contracts/build';
import { DEAD_LETTER_HEADERS, type DeadLetterReason } from '../consumer/failure.js';
import { ATTEMPT_HEADER } from '../consumer/incoming-message.js';
import { CLOUDEVENTS_CONTENT_TYPE } from '../envelope/cloud-event.js';
import {
  deadLetterQueueOf,
  EXCHANGES,
  exchangeFor,
  type ExchangeSpec,
  type QueueSpec,
  type Topology,
} from './topology.js';

type Json = Record<string, unknown>;

const AMQP_BINDING_VERSION = '0.3.0';
const HEADERS_SCHEMA = 'AmqpHeaders';

/** Channel ids for the four channels each queue has. */
export const queueChannels = (queue: string) => ({
  queue,
  deadLetterQueue: deadLetterQueueOf(queue),
  retry: `${queue}.retry`,
  deadLetter: `${queue}.dead-letter`,
});

/** Operation ids, stable and readable: `payment.publish.payment.authorized.v1`, `payment.commands.receive`. */
export const operationIds = {
  send: (service: string, messageType: MessageType) =>
    `${service}.${messageType.kind === 'event' ? 'publish' : 'send'}.${messageType.type}`,
  receive: (queue: string) => `${queue}.receive`,
  retry: (queue: string) => `${queue}.retry`,
  deadLetter: (queue: string) => `${queue}.dead-letter`,
  receiveDeadLetters: (queue: string) => `${deadLetterQueueOf(queue)}.receive`,
};

// A Record over the union makes the compiler insist on a description for every reason failure.ts can write.
const DEAD_LETTER_REASONS: Record<DeadLetterReason, string> = {
  'attempts-exhausted': 'transient failures used up the attempts of the retry policy',
  'permanent-error': 'the handler threw a PermanentError',
  undeliverable: 'the body is not an orderflow CloudEvent of a known type with valid data, or the queue has no handler',
  'wrong-publisher': 'sent by a broker user (AMQP user_id) other than the one that owns the message; never handled',
};

export function toAsyncApi(routing: Routing, topology: Topology, version: string): Json {
  const messageTypes = sortedBy(
    unique([...routing.queues.flatMap((q) => q.receives), ...Object.values(routing.publishes).flat()], (m) => m.type),
    (m) => m.type,
  );
  const channels = new Entries('channel');
  const operations = new Entries('operation');
  addMessageChannels(channels, routing, topology, messageTypes);
  addPublishOperations(operations, routing);
  const byType = new Map(messageTypes.map((m) => [m.type, m]));
  for (const queue of sortedBy(topology.queues.filter(isConsumedQueue), (q) => q.name)) {
    const received = receivedBy(queue, topology, byType);
    addQueueChannels(channels, topology, queue, received);
    addQueueOperations(operations, topology, queue, received);
  }
  return document(topology, version, messageTypes, channels, operations);
}

/** One channel per message type: the exchange and routing key it travels with, who sends it and where it lands. */
function addMessageChannels(
  channels: Entries,
  routing: Routing,
  topology: Topology,
  messageTypes: readonly MessageType[],
): void {
  for (const messageType of messageTypes) {
    const exchange = exchangeNamed(topology, exchangeFor(messageType));
    const queues = topology.bindings
      .filter((b) => b.exchange === exchange.name && b.routingKey === messageType.type)
      .map((b) => `\`${b.queue}\``)
      .sort();
    const publishers = Object.keys(routing.publishes)
      .filter((service) => routing.publishes[service].some((m) => m.type === messageType.type))
      .sort();
    channels.add(messageType.type, {
      address: messageType.type,
      title: `${exchange.name} / ${messageType.type}`,
      summary: messageType.summary,
      description:
        `${capitalize(messageType.kind)} sent by ${list(publishers) || 'no service'} to \`${exchange.name}\` ` +
        `with routing key \`${messageType.type}\`; delivered to ${list(queues) || 'no queue'}.`,
      messages: channelMessages([messageType]),
      bindings: routingKeyBinding(exchange, topology.vhost),
    });
  }
}

/** One `send` operation per service and message type it publishes, through the outbox. */
function addPublishOperations(operations: Entries, routing: Routing): void {
  for (const [service, published] of sortedBy(Object.entries(routing.publishes), ([service]) => service)) {
    for (const messageType of sortedBy(published, (m) => m.type)) {
      operations.add(operationIds.send(service, messageType), {
        action: 'send',
        channel: ref('channels', messageType.type),
        messages: [ref('channels', messageType.type, 'messages', messageType.type)],
        summary: `The ${service} service ${messageType.kind === 'event' ? 'publishes' : 'sends'} ${messageType.type}.`,
        description:
          'Written to the outbox in the transaction of the change that causes it; the relay publishes it as ' +
          'persistent and mandatory, and deletes the row when the broker confirms (keeps it, marked sent, for ' +
          'OUTBOX_RETENTION_HOURS when that is set).',
        tags: [{ name: service }],
        bindings: { amqp: { deliveryMode: 2, mandatory: true, timestamp: true, bindingVersion: AMQP_BINDING_VERSION } },
      });
    }
  }
}

/** The message types a queue is bound to, from the commands and events exchanges. */
function receivedBy(queue: QueueSpec, topology: Topology, byType: ReadonlyMap<string, MessageType>): MessageType[] {
  const bindings = topology.bindings.filter((b) => b.queue === queue.name);
  return sortedBy(
    bindings
      .filter((b) => b.exchange === EXCHANGES.commands || b.exchange === EXCHANGES.events)
      .map((b) => {
        const messageType = byType.get(b.routingKey);
        if (!messageType) throw new Error(`${queue.name} is bound to ${b.routingKey}, a type the routing lacks`);
        return messageType;
      }),
    (m) => m.type,
  );
}

/** A consumed queue's four channels: the queue, its dead-letter queue, and the retry and dead-letter routes to them. */
function addQueueChannels(
  channels: Entries,
  topology: Topology,
  queue: QueueSpec,
  received: readonly MessageType[],
): void {
  const ids = queueChannels(queue.name);
  const bindings = topology.bindings.filter((b) => b.queue === queue.name);
  const retryExchange = exchangeNamed(topology, EXCHANGES.retry);
  const deadLetterExchange = exchangeNamed(topology, EXCHANGES.deadLetters);
  const policy = topology.policies.find((p) => new RegExp(p.pattern).test(queue.name));
  const byExchange = [...new Set(bindings.map((b) => b.exchange))].sort().map(
    (exchange) =>
      `\`${exchange}\` with ${list(
        bindings
          .filter((b) => b.exchange === exchange)
          .map((b) => `\`${b.routingKey}\``)
          .sort(),
      )}`,
  );
  const retryKey = routingKeyOf(topology, retryExchange.name, queue.name);
  const deadLetterKey = routingKeyOf(topology, deadLetterExchange.name, queue.deadLetterQueue);

  channels.add(ids.queue, {
    address: queue.name,
    title: queue.name,
    summary: queue.summary,
    description:
      `Quorum queue of the ${queue.service} service, bound to ${list(byExchange)}. ` +
      (policy
        ? `Policy \`${policy.name}\`: ${Object.entries(policy.definition)
            .map(([key, value]) => `${key} ${value}`)
            .join(', ')}. `
        : '') +
      `Its dead letters go to \`${queue.deadLetterQueue}\`.`,
    messages: channelMessages(received),
    bindings: queueBinding(queue.name, topology.vhost),
  });
  channels.add(ids.deadLetterQueue, {
    address: queue.deadLetterQueue,
    title: queue.deadLetterQueue,
    summary: `Messages ${queue.name} could not handle`,
    description:
      `Fed by \`${deadLetterExchange.name}\` with routing key \`${deadLetterKey}\`. A dead letter keeps its body ` +
      `and says why in its \`${DEAD_LETTER_HEADERS.reason}\` header; one the broker dead-lettered has \`x-death\` ` +
      'instead. An undeliverable body need not match any message listed here.',
    messages: channelMessages(received),
    bindings: queueBinding(queue.deadLetterQueue, topology.vhost),
  });
  channels.add(ids.retry, {
    address: retryKey,
    title: `${retryExchange.name} / ${retryKey}`,
    summary: `Back onto ${queue.name}: delayed retries and dead-letter replays`,
    messages: channelMessages(received),
    bindings: routingKeyBinding(retryExchange, topology.vhost),
  });
  channels.add(ids.deadLetter, {
    address: deadLetterKey,
    title: `${deadLetterExchange.name} / ${deadLetterKey}`,
    summary: `Into ${queue.deadLetterQueue}`,
    messages: channelMessages(received),
    bindings: routingKeyBinding(deadLetterExchange, topology.vhost),
  });
}

/** What the queue's service does with it: consume, retry, dead-letter, and let operators replay. */
function addQueueOperations(
  operations: Entries,
  topology: Topology,
  queue: QueueSpec,
  received: readonly MessageType[],
): void {
  const ids = queueChannels(queue.name);
  const retryExchange = exchangeNamed(topology, EXCHANGES.retry);
  operations.add(operationIds.receive(queue.name), {
    action: 'receive',
    channel: ref('channels', ids.queue),
    messages: operationMessages(ids.queue, received),
    summary: `The ${queue.service} service consumes ${queue.name}.`,
    description:
      'A delivery is acknowledged only after the transaction holding its inbox record, the handler’s changes ' +
      'and its outgoing messages has committed; a duplicate finds its inbox record and is acknowledged unhandled.',
    tags: [{ name: queue.service }],
    bindings: { amqp: { ack: true, bindingVersion: AMQP_BINDING_VERSION } },
  });
  operations.add(operationIds.retry(queue.name), {
    action: 'send',
    channel: ref('channels', ids.retry),
    messages: operationMessages(ids.retry, received),
    summary: `The ${queue.service} service puts a message back on ${queue.name}.`,
    description:
      `A delayed retry (an outbox row due later, with \`${ATTEMPT_HEADER}\` one higher) or an operator’s replay ` +
      `from \`${queue.deadLetterQueue}\` (as attempt 1 again).`,
    tags: [{ name: queue.service }],
    bindings: { amqp: { deliveryMode: 2, mandatory: true, bindingVersion: AMQP_BINDING_VERSION } },
  });
  operations.add(operationIds.deadLetter(queue.name), {
    action: 'send',
    channel: ref('channels', ids.deadLetter),
    messages: operationMessages(ids.deadLetter, received),
    summary: `The ${queue.service} service dead-letters a message of ${queue.name}.`,
    description:
      'Written as an outbox row with the dead-letter headers. The broker sends here too, under the queue’s ' +
      'policy, when a delivery is rejected or reaches the delivery limit.',
    tags: [{ name: queue.service }],
    bindings: { amqp: { deliveryMode: 2, mandatory: true, bindingVersion: AMQP_BINDING_VERSION } },
  });
  operations.add(operationIds.receiveDeadLetters(queue.name), {
    action: 'receive',
    channel: ref('channels', ids.deadLetterQueue),
    messages: operationMessages(ids.deadLetterQueue, received),
    summary: `Operators list and replay the dead letters of ${queue.name} through the ${queue.service} service.`,
    description: `\`GET /dead-letters/${queue.name}\` looks without taking; \`POST /dead-letters/${queue.name}/replay\` republishes through \`${retryExchange.name}\`, then acknowledges.`,
    tags: [{ name: queue.service }],
    bindings: { amqp: { ack: true, bindingVersion: AMQP_BINDING_VERSION } },
  });
}

/** The document around the channels and operations: info, server, and the shared schemas and messages. */
function document(
  topology: Topology,
  version: string,
  messageTypes: readonly MessageType[],
  channels: Entries,
  operations: Entries,
): Json {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'orderflow messaging',
      version,
      description:
        'The commands and events orderflow’s services exchange over RabbitMQ. Every message is a CloudEvents 1.0 ' +
        'event in structured JSON mode; its wire type is the CloudEvents `type`, the AMQP `type` property and the ' +
        'routing key. Generated by `npm run generate` from libs/contracts; see docs/messaging.md.',
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    servers: {
      rabbitmq: {
        host: 'rabbitmq:5672',
        pathname: `/${topology.vhost}`,
        protocol: 'amqp',
        protocolVersion: '0-9-1',
        description: `RabbitMQ; orderflow lives in the \`${topology.vhost}\` vhost.`,
      },
    },
    channels: channels.sorted(),
    operations: operations.sorted(),
    components: {
      schemas: {
        [HEADERS_SCHEMA]: headersSchema(),
        ...Object.fromEntries(messageTypes.map((m) => [m.type, dataSchemaOf(m)])),
      },
      messages: Object.fromEntries(messageTypes.map((m) => [m.type, messageOf(m)])),
    },
  };
}

function messageOf(messageType: MessageType): Json {
  return {
    name: messageType.type,
    title: `${capitalize(messageType.domain)}: ${messageType.type.split('.')[1].replaceAll('-', ' ')} (${messageType.kind}, v${messageType.version})`,
    summary: messageType.summary,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    tags: [{ name: messageType.kind }, { name: messageType.domain }],
    correlationId: {
      description: 'Shared by every message that one request caused, directly or not',
      location: '$message.payload#/correlationid',
    },
    headers: { $ref: `#/components/schemas/${HEADERS_SCHEMA}` },
    payload: envelopeSchemaOf(messageType),
    bindings: {
      amqp: { messageType: messageType.type, contentEncoding: 'utf-8', bindingVersion: AMQP_BINDING_VERSION },
    },
  };
}

/** The CloudEvents envelope as envelope() writes it and decode() accepts it (see envelope/cloud-event.ts). */
function envelopeSchemaOf(messageType: MessageType): Json {
  const text = (description: string) => ({ type: 'string', minLength: 1, maxLength: 200, description });
  return {
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'data', 'correlationid'],
    properties: {
      specversion: { type: 'string', const: '1.0' },
      id: {
        type: 'string',
        format: 'uuid',
        description: 'UUIDv7, time-ordered; also the AMQP message_id and the key of the consumer’s inbox',
      },
      source: { type: 'string', pattern: '^/orderflow/[a-z-]+$', description: 'The sender: /orderflow/<service>' },
      type: {
        type: 'string',
        const: messageType.type,
        description: 'The wire type; also the AMQP type property and the routing key',
      },
      time: { type: 'string', format: 'date-time', description: 'When the message was made' },
      subject: text('The order id; the ordering key of the outbox and of the consumer’s lanes'),
      datacontenttype: { type: 'string', const: 'application/json' },
      data: { $ref: `#/components/schemas/${messageType.type}` },
      correlationid: text('Shared by every message that one request caused, directly or not; the AMQP correlation_id'),
      causationid: text('The id of the message whose handling made this one'),
      traceparent: {
        type: 'string',
        pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description: 'W3C Trace Context of the span that made this message',
      },
      tracestate: { type: 'string', maxLength: 512, description: 'W3C Trace Context vendor state' },
    },
  };
}

/** What orderflow writes into AMQP headers; the broker adds its own (`x-death`, …) when it dead-letters. */
function headersSchema(): Json {
  const header = (type: string, description: string, extra: Json = {}) => ({ type, description, ...extra });
  return {
    type: 'object',
    required: ['subject'],
    properties: {
      subject: header('string', 'The order id, so a consumer picks the lane without parsing the body'),
      traceparent: header('string', 'Copy of the envelope’s traceparent, for tools that read only headers'),
      tracestate: header('string', 'Copy of the envelope’s tracestate'),
      [ATTEMPT_HEADER]: header('integer', 'Delivery attempt: set on delayed retries (2, 3, …) and to 1 on a replay', {
        minimum: 1,
      }),
      'x-orderflow-last-error': header('string', 'On a delayed retry: the error of the previous attempt'),
      [DEAD_LETTER_HEADERS.reason]: header(
        'string',
        `Why the message was dead-lettered: ${Object.entries(DEAD_LETTER_REASONS)
          .map(([reason, meaning]) => `${reason} (${meaning})`)
          .join('; ')}`,
        { enum: Object.keys(DEAD_LETTER_REASONS).sort() },
      ),
      [DEAD_LETTER_HEADERS.error]: header('string', 'The error, as `<name>: <message>`'),
      [DEAD_LETTER_HEADERS.queue]: header('string', 'The queue the message failed on'),
      [DEAD_LETTER_HEADERS.service]: header('string', 'The service that failed to handle it'),
      [DEAD_LETTER_HEADERS.failedAt]: header('string', 'When it was dead-lettered', { format: 'date-time' }),
      [DEAD_LETTER_HEADERS.attempts]: header('integer', 'Attempts made before it was dead-lettered', { minimum: 1 }),
      'x-orderflow-dead-letter-queue': header('string', 'The dead-letter queue it was sent to'),
      'x-orderflow-replayed-at': header('string', 'When an operator replayed it from its dead-letter queue', {
        format: 'date-time',
      }),
    },
  };
}

// zod writes draft 2020-12; AsyncAPI 3.0 reads its own Schema Object, a superset of draft-07. The data schemas use
// only keywords that mean the same in both, and no $ref (which would point into a document they are no longer the
// root of). That is checked here, not assumed, so a schema that stops fitting fails generation loudly.
const NOT_DRAFT_07 = new Set([
  '$ref',
  '$defs',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$vocabulary',
  'prefixItems',
  'unevaluatedItems',
  'unevaluatedProperties',
  'dependentRequired',
  'dependentSchemas',
  'minContains',
  'maxContains',
]);

function dataSchemaOf(messageType: MessageType): Json {
  const schema = jsonSchemaOf(messageType);
  delete schema.$schema;
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${path}/${i}`));
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (NOT_DRAFT_07.has(key) && !path.endsWith('/properties')) {
          throw new Error(`${messageType.type}: ${path}/${key} has no draft-07 meaning; AsyncAPI 3.0 cannot embed it`);
        }
        visit(value, `${path}/${key}`);
      }
    }
  };
  visit(schema, '#');
  return schema;
}

function channelMessages(messageTypes: readonly MessageType[]): Json {
  return Object.fromEntries(messageTypes.map((m) => [m.type, ref('components', 'messages', m.type)]));
}

/** An operation's messages must be the channel's own, referenced through the channel. */
function operationMessages(channel: string, messageTypes: readonly MessageType[]): Json[] {
  return messageTypes.map((m) => ref('channels', channel, 'messages', m.type));
}

function routingKeyBinding(exchange: ExchangeSpec, vhost: string): Json {
  return {
    amqp: {
      is: 'routingKey',
      exchange: { name: exchange.name, type: exchange.type, durable: true, autoDelete: false, vhost },
      bindingVersion: AMQP_BINDING_VERSION,
    },
  };
}

function queueBinding(queue: string, vhost: string): Json {
  return {
    amqp: {
      is: 'queue',
      queue: { name: queue, durable: true, exclusive: false, autoDelete: false, vhost },
      bindingVersion: AMQP_BINDING_VERSION,
    },
  };
}

const isConsumedQueue = (q: Topology['queues'][number]): q is QueueSpec => !q.isDeadLetterQueue;

/** The routing key that binds `exchange` to `queue`: the address of the channel that feeds the queue. */
function routingKeyOf(topology: Topology, exchange: string, queue: string): string {
  const binding = topology.bindings.find((b) => b.exchange === exchange && b.queue === queue);
  if (!binding) throw new Error(`the topology binds nothing from ${exchange} to ${queue}`);
  return binding.routingKey;
}

function exchangeNamed(topology: Topology, name: string): ExchangeSpec {
  const exchange = topology.exchanges.find((e) => e.name === name);
  if (!exchange) throw new Error(`the topology has no exchange ${name}`);
  return exchange;
}

/** A JSON Reference to a path in this document; each segment is escaped as RFC 6901 asks. */
function ref(...segments: string[]): { $ref: string } {
  return { $ref: `#/${segments.map((s) => s.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` };
}

/** An id → object map that refuses a second entry under one id, so two names can never silently merge. */
class Entries {
  private readonly entries = new Map<string, Json>();
  constructor(private readonly kind: string) {}

  add(id: string, value: Json): void {
    if (this.entries.has(id)) throw new Error(`two ${this.kind}s would be called ${id}`);
    this.entries.set(id, value);
  }

  sorted(): Json {
    return Object.fromEntries(sortedBy([...this.entries], ([id]) => id));
  }
}

// Code-point order, not localeCompare: the output must not depend on the machine's locale.
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function unique<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const list = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
