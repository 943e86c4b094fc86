// The messaging core's public face, named export by export: what services and the other libs build on. The outbox's
// SQL stays inside; build-time code (the AsyncAPI document, broker permissions) is in build.ts.

// Units of work and the messages they state
export { Messaging, type WorkContext, workContextOf } from './messaging.js';
export { runAfterCommit, UnitOfWork } from './unit-of-work.js';
export { PermanentError, TransientError, UndeliverableMessage } from './errors.js';
export { Idempotent, type IdempotentOptions } from './idempotency/idempotent.decorator.js';
export { CreateIdempotencyKeys1765200000001 } from './idempotency/idempotency-keys.migration.js';
export type { MessagingLogger } from './logger.js';

// Handling messages
export { ATTEMPT_HEADER, type IncomingMessage, type MessageHandlerFn } from './consumer/incoming-message.js';
export { HandleMessage, HandlesMessages, type MessageHandlerSet } from './consumer/handle-message.decorator.js';
export {
  type ConsumerObserver,
  type ConsumerOptions,
  DEFAULT_CONSUMER_OPTIONS,
  type Outcome,
  QueueConsumer,
  type QueueConsumerDeps,
} from './consumer/queue-consumer.js';
export { brokerUserOfService, PublisherCheck, publisherCheckFor } from './consumer/publisher-check.js';
export {
  DEAD_LETTER_HEADERS,
  type DeadLetterReason,
  deadLetterRow,
  DEFAULT_RETRY_POLICY,
  retryDelayMs,
  type RetryPolicy,
  retryRow,
} from './consumer/failure.js';

// The wire
export {
  amqpProperties,
  type CloudEvent,
  CLOUDEVENTS_CONTENT_TYPE,
  decode,
  type DecodedMessage,
  encode,
  envelope,
  type EnvelopeContext,
  newMessageId,
  sourceOf,
} from './envelope/cloud-event.js';
export {
  childTraceparent,
  endSpan,
  incomingTraceContext,
  isTraceparent,
  outgoingTraceContext,
  type ProcessedMessage,
  type PublishedMessage,
  startProcessSpan,
  startPublishSpan,
  type TraceHeaders,
  traceHeadersOf,
} from './envelope/trace-context.js';

// The outbox
export { type AppendedRow, appendToOutbox, type ClaimedRow, type OutboxRow } from './outbox/outbox-store.js';
export {
  CLAIM_ONLY,
  DEFAULT_RELAY_OPTIONS,
  type OutboxHandoff,
  OutboxRelay,
  type RelayObserver,
  type RelayOptions,
  relayPool,
} from './outbox/outbox-relay.js';
export { OutboxPruner, type PruneOptions } from './outbox/outbox-pruner.js';
export { outboxLagSignal } from './outbox/outbox-lag.js';
export { CreateMessagingTables1763900000000 } from './outbox/messaging-tables.migration.js';
export { OutboxKeepsItsPages1765100000000 } from './outbox/outbox-keeps-its-pages.migration.js';

// The broker: connection, topology, dead letters
export { BrokerConnection, type BrokerConnectionOptions } from './broker/broker-connection.js';
export {
  type BindingSpec,
  buildTopology,
  DEAD_LETTER_QUEUE_DELIVERY_LIMIT,
  deadLetterQueueOf,
  type DeadLetterQueueSpec,
  DEFAULT_DELIVERY_LIMIT,
  exchangeFor,
  EXCHANGES,
  type ExchangeSpec,
  type PolicySpec,
  queuesOf,
  type QueueSpec,
  type Topology,
  toRabbitDefinitions,
} from './topology/topology.js';
export { checkTopology, TopologyMismatch } from './topology/topology-check.js';
export { BatchReplayRequest, ListDeadLettersQuery, MAX_REPLAY_BATCH } from './dead-letters/dead-letters.controller.js';
export {
  type DeadLetter,
  type DeadLetterQueueSummary,
  DeadLetters,
  UnknownQueue,
} from './dead-letters/dead-letters.js';

// Nest wiring and metrics
export { MessagingModule } from './messaging.module.js';
export { PUBLISHABLE_TYPES, TOPOLOGY } from './messaging.providers.js';
export { type MessagingConfig, messagingConfigShape } from './messaging-config.js';
export { MessagingMetrics, type OutboxStats } from './metrics/messaging-metrics.js';
