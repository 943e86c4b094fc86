/**
 * Consumes one queue so that every handler's effect happens exactly once.
 *
 * Guarantee: a delivery is acknowledged only after the transaction holding its inbox record, the handler's state
 * changes and its outgoing messages has committed. A crash before the commit leaves the message unacknowledged, so
 * the broker redelivers it; a crash after the commit and before the ack redelivers a message whose inbox record
 * exists, which is then acknowledged with no second effect. The same holds for duplicates published twice.
 *
 * Throughput: deliveries are spread over lanes by ordering key (the order id), so one order's messages are handled
 * in order while other orders run in parallel; each lane handles what has arrived as one batch in one transaction
 * (one inbox INSERT, the handlers, one outbox INSERT, one COMMIT), its messages sorted by ordering key so that every
 * batch, on every replica, takes its row locks in one order. If any handler in a batch fails, the batch is rolled back
 * and its messages are handled one per transaction, so a failure touches only its own message.
 *
 * Failure: a handler's error becomes a delayed retry or a dead letter (see failure.ts). A database that cannot be
 * reached is waited out, holding the deliveries unacknowledged, without counting attempts.
 */
import { createHash } from 'node:crypto';
import { context, type Span } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { isDatabaseUnavailable } from '@orderflow/platform';
import type { DataSource } from 'typeorm';
import type { BrokerConnection } from '../broker/broker-connection.js';
import { decode, type DecodedMessage } from '../envelope/cloud-event.js';
import { endSpan, incomingTraceContext, startProcessSpan, traceHeadersOf } from '../envelope/trace-context.js';
import { PermanentError, UndeliverableMessage } from '../errors.js';
import type { OutboxHandoff } from '../outbox/outbox-relay.js';
import { type AppendedRow, appendToOutbox } from '../outbox/outbox-store.js';
import { UnitOfWorkTransaction } from '../unit-of-work.js';
import {
  DEFAULT_RETRY_POLICY,
  deadLetterRow,
  type DeadLetterReason,
  retryDelayMs,
  retryRow,
  type RetryPolicy,
} from './failure.js';
import { ATTEMPT_HEADER, type IncomingMessage, type MessageHandlerFn } from './incoming-message.js';
import type { PublisherCheck } from './publisher-check.js';
import type { MessagingLogger } from '../logger.js';

export interface ConsumerOptions {
  /** Unacknowledged deliveries the broker may push to this consumer (per-consumer QoS). */
  prefetch: number;
  /** Batches in flight at once; one order's messages always share a lane. */
  lanes: number;
  maxBatch: number;
  retry: RetryPolicy;
}

export const DEFAULT_CONSUMER_OPTIONS: ConsumerOptions = {
  prefetch: 200,
  lanes: 4,
  maxBatch: 50,
  retry: DEFAULT_RETRY_POLICY,
};

export type Outcome = 'handled' | 'duplicate' | 'retried' | 'dead-lettered';

export interface ConsumerObserver {
  outcome(queue: string, type: string, outcome: Outcome, count?: number): void;
  /** How long a message's handler ran, once per message whose effects committed; optional for rigs and benches. */
  handlerTook?(queue: string, type: string, seconds: number): void;
}

interface Delivery {
  channel: Channel;
  msg: ConsumeMessage;
}

interface Decoded extends Delivery {
  message: IncomingMessage;
  handler: MessageHandlerFn;
}

/**
 * Acknowledges (or rejects) on the delivery's own channel. If that channel died meanwhile the broker redelivers
 * the message to the next channel, and the inbox makes the redelivery a no-op: nothing to do here.
 */
function settle(delivery: Delivery, how: 'ack' | 'reject'): void {
  try {
    if (how === 'ack') delivery.channel.ack(delivery.msg);
    else delivery.channel.reject(delivery.msg, false);
  } catch {
    // IllegalOperationError: channel closed.
  }
}

class Lane {
  readonly pending: Delivery[] = [];
  running?: Promise<void>;
}

export interface QueueConsumerDeps {
  queue: string;
  service: string;
  instance: string;
  handlers: ReadonlyMap<string, MessageHandlerFn>;
  publishableTypes: ReadonlySet<string>;
  dataSource: DataSource;
  broker: BrokerConnection;
  /** Who may have sent what: a delivery from anyone else is dead-lettered unhandled. */
  publishers: PublisherCheck;
  /** Takes the outbox rows of each commit, so this process's relay publishes them at once. */
  outbox: OutboxHandoff;
  logger: MessagingLogger;
  observer: ConsumerObserver;
}

export class QueueConsumer {
  private readonly options: ConsumerOptions;
  private readonly lanes: Lane[];
  private channel?: Channel;
  private consumerTag?: string;
  private stopping = false;

  constructor(
    private readonly deps: QueueConsumerDeps,
    options: Partial<ConsumerOptions> = {},
  ) {
    this.options = { ...DEFAULT_CONSUMER_OPTIONS, ...options };
    this.lanes = Array.from({ length: this.options.lanes }, () => new Lane());
  }

  get queue(): string {
    return this.deps.queue;
  }

  async start(): Promise<void> {
    await this.deps.broker.onConnected((model) => this.attach(model));
  }

  /** Stops taking deliveries and lets the batches in flight commit and acknowledge. */
  async stop(): Promise<void> {
    this.stopping = true;
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    await Promise.all(this.lanes.map((lane) => lane.running ?? Promise.resolve()));
    await channel?.close().catch(() => undefined);
  }

  private async attach(model: ChannelModel): Promise<void> {
    if (this.stopping) return;
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.deps.logger.warn({ message: 'consumer channel error', queue: this.queue, reason: err.message }),
    );
    await channel.checkQueue(this.queue);
    await channel.prefetch(this.options.prefetch, false);
    // Deliveries still buffered from a dead channel cannot be acknowledged any more; the broker redelivers them.
    for (const lane of this.lanes) lane.pending.splice(0);
    const { consumerTag } = await channel.consume(this.queue, (msg) => msg && this.receive({ channel, msg }), {
      noAck: false,
      consumerTag: `${this.deps.instance}/${this.queue}/${Date.now().toString(36)}`,
    });
    this.channel = channel;
    this.consumerTag = consumerTag;
  }

  private receive(delivery: Delivery): void {
    const lane = this.lanes.length === 1 ? this.lanes[0] : this.laneOf(delivery);
    lane.pending.push(delivery);
    lane.running ??= this.drain(lane);
  }

  private laneOf(delivery: Delivery): Lane {
    const key = String(delivery.msg.properties.headers?.subject ?? delivery.msg.properties.messageId ?? '');
    return this.lanes[createHash('sha1').update(key).digest().readUInt32BE(0) % this.lanes.length];
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      while (lane.pending.length > 0 && !this.stopping) {
        await this.handleBatch(lane.pending.splice(0, this.options.maxBatch)).catch((err: Error) =>
          // Unacknowledged deliveries of a failed batch come back when their channel closes; nothing is lost.
          this.deps.logger.error({ message: 'batch failed unexpectedly', queue: this.queue, reason: err.message }),
        );
      }
    } finally {
      lane.running = undefined;
    }
  }

  private async handleBatch(batch: Delivery[]): Promise<void> {
    const decoded: Decoded[] = [];
    for (const delivery of batch) {
      try {
        decoded.push(this.decode(delivery));
      } catch (err) {
        await this.fail(delivery, err as Error, 1);
      }
    }
    if (decoded.length === 0) return;
    // One lock order for every batch: each replica's batches take their ordering keys' row locks (an order, a saga,
    // its deadlines) in the same order, so two replicas handling messages of the same two orders wait for each other
    // instead of deadlocking (which PostgreSQL breaks only after deadlock_timeout, the batch then redone message by
    // message). A stable sort: one key's messages keep their order; different keys never had one.
    decoded.sort((a, b) => compareKeys(a.message.subject, b.message.subject));
    try {
      await this.withDatabase(() => this.commit(decoded));
    } catch (batchError) {
      if (this.interruptedByShutdown(batchError)) return;
      // A batch of one already is the message alone: running its handler again would only repeat its calls.
      const [only] = decoded;
      if (decoded.length === 1 && only) {
        await this.fail(only, batchError as Error, only.message.attempt);
        return;
      }
      // Isolate the failure: each message alone, in its own transaction.
      for (const one of decoded) {
        try {
          await this.withDatabase(() => this.commit([one]));
        } catch (err) {
          if (this.interruptedByShutdown(err)) return;
          await this.fail(one, err as Error, one.message.attempt);
        }
      }
    }
  }

  private decode(delivery: Delivery): Decoded {
    let decoded: DecodedMessage;
    try {
      decoded = decode(delivery.msg.content);
    } catch (err) {
      throw err instanceof UndeliverableMessage ? err : new UndeliverableMessage(String(err), 'undecodable');
    }
    const { event } = decoded;
    const refusal = this.deps.publishers.refusal(
      event.type,
      delivery.msg.fields.exchange,
      delivery.msg.properties.userId as unknown,
    );
    if (refusal) throw new UndeliverableMessage(refusal, 'wrong-publisher');
    const handler = this.deps.handlers.get(event.type);
    if (!handler) throw new UndeliverableMessage(`${this.queue} has no handler for ${event.type}`, 'unhandled-type');
    const attempt = Number(delivery.msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
    return {
      ...delivery,
      handler,
      message: {
        id: event.id,
        type: event.type,
        subject: event.subject,
        data: event.data,
        source: event.source,
        time: event.time,
        correlationId: event.correlationid,
        causationId: event.causationid,
        traceparent: event.traceparent,
        tracestate: event.tracestate,
        attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
        lastAttempt: (Number.isInteger(attempt) && attempt > 0 ? attempt : 1) >= this.options.retry.maxAttempts,
        queue: this.queue,
      },
    };
  }

  /** One transaction: inbox records, handlers, outbox rows. Acknowledges after the commit. */
  private async commit(batch: Decoded[]): Promise<void> {
    const runner = this.deps.dataSource.createQueryRunner();
    const duplicates: Decoded[] = [];
    const handled: Decoded[] = [];
    // Each handled message's handler time, by its index in `handled`: observed only once its effects committed, so
    // a batch that rolls back and is redone message by message counts each message once.
    const handlerSeconds: number[] = [];
    // One span per message handled, open until the transaction that holds its effects commits or rolls back.
    const spans: Span[] = [];
    const transaction = new UnitOfWorkTransaction(this.deps);
    await runner.connect();
    try {
      await runner.startTransaction();
      const inserted = await runner.query(
        `INSERT INTO inbox_messages (consumer, message_id, message_type)
         SELECT $1, m, t FROM unnest($2::uuid[], $3::text[]) AS x(m, t)
         ON CONFLICT DO NOTHING RETURNING message_id`,
        [this.queue, batch.map((d) => d.message.id), batch.map((d) => d.message.type)],
        true,
      );
      const fresh = new Set((inserted.records as { message_id: string }[]).map((r) => r.message_id));
      for (const delivery of batch) {
        // `delete` also catches the same message twice in one batch: only its first copy has an effect.
        if (!fresh.delete(delivery.message.id)) {
          duplicates.push(delivery);
          continue;
        }
        const uow = transaction.unitOfWork(
          runner.manager,
          delivery.message.correlationId,
          delivery.message.id,
          delivery.message.traceparent,
          delivery.message.tracestate,
        );
        const processing = startProcessSpan(this.queue, delivery.message);
        spans.push(processing.span);
        const handlerStarted = performance.now();
        // The handler, and every line it or this logs, run in the message's span (the logs carry its trace id).
        await context.with(processing.context, () => {
          const { type, id: messageId, correlationId, attempt } = delivery.message;
          this.deps.logger.debug?.({
            message: 'handling message',
            queue: this.queue,
            type,
            messageId,
            correlationId,
            attempt,
          });
          return delivery.handler(delivery.message, uow);
        });
        handlerSeconds.push((performance.now() - handlerStarted) / 1000);
        handled.push(delivery);
      }
      await transaction.appendToOutbox((sql, params) => runner.query(sql, params));
      await runner.commitTransaction();
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      for (const span of spans) endSpan(span, err as Error);
      throw err;
    } finally {
      await runner.release();
    }
    for (const span of spans) endSpan(span);
    transaction.committed((err) =>
      this.deps.logger.error({ message: 'after-commit callback failed', queue: this.queue, reason: err.message }),
    );
    for (const d of [...handled, ...duplicates]) settle(d, 'ack');
    this.count(handled, 'handled');
    this.count(duplicates, 'duplicate');
    for (let i = 0; i < handled.length; i++) {
      this.deps.observer.handlerTook?.(this.queue, handled[i].message.type, handlerSeconds[i]);
    }
  }

  private async fail(delivery: Delivery | Decoded, error: Error, attempt: number): Promise<void> {
    const type = 'message' in delivery ? delivery.message.type : String(delivery.msg.properties.type ?? 'unknown');
    const permanent = error instanceof PermanentError;
    const reason: DeadLetterReason | undefined =
      error instanceof UndeliverableMessage
        ? error.reason === 'wrong-publisher'
          ? 'wrong-publisher'
          : 'undeliverable'
        : permanent
          ? 'permanent-error'
          : attempt >= this.options.retry.maxAttempts
            ? 'attempts-exhausted'
            : undefined;
    const row = reason
      ? deadLetterRow(delivery.msg, this.queue, this.deps.service, attempt, reason, error)
      : retryRow(delivery.msg, this.queue, attempt, error, retryDelayMs(attempt, this.options.retry));
    let appended: AppendedRow[];
    try {
      appended = await this.withDatabase(() =>
        appendToOutbox((sql, params) => this.deps.dataSource.query(sql, params), [row], this.deps.outbox.reservationMs),
      );
    } catch (err) {
      // Not even the failure could be recorded: let the broker dead-letter it (its policy routes it to the DLQ).
      this.deps.logger.error({
        message: 'could not record a failed message; rejecting it',
        queue: this.queue,
        reason: (err as Error).message,
      });
      settle(delivery, 'reject');
      this.count([delivery], 'dead-lettered', type);
      return;
    }
    this.deps.outbox.committed(appended);
    settle(delivery, 'ack');
    const log = reason ? this.deps.logger.error.bind(this.deps.logger) : this.deps.logger.warn.bind(this.deps.logger);
    // In the context the message came with (its process span has ended): the line carries its trace id, and the span
    // id of the publish that sent it.
    context.with(incomingTraceContext(traceHeadersOf(delivery.msg.properties.headers)), () =>
      log({
        message: reason ? 'message dead-lettered' : 'message will be retried',
        queue: this.queue,
        type,
        messageId: delivery.msg.properties.messageId as unknown,
        correlationId: delivery.msg.properties.correlationId as unknown,
        attempt,
        reason: reason ?? 'transient',
        error: error.message,
      }),
    );
    this.count([delivery], reason ? 'dead-lettered' : 'retried', type);
  }

  /** Shutting down with the database away: leave the deliveries unacknowledged for the broker to redeliver. */
  private interruptedByShutdown(err: unknown): boolean {
    return this.stopping && isDatabaseUnavailable(err);
  }

  /** Runs `work`, waiting out a database that cannot be reached (the deliveries stay unacknowledged meanwhile). */
  private async withDatabase<T>(work: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (;;) {
      try {
        return await work();
      } catch (err) {
        if (!isDatabaseUnavailable(err) || this.stopping) throw err;
        this.deps.logger.warn({
          message: 'database unavailable; holding deliveries',
          queue: this.queue,
          retryInMs: delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private count(deliveries: (Delivery | Decoded)[], outcome: Outcome, type?: string): void {
    for (const d of deliveries) {
      this.deps.observer.outcome(this.queue, type ?? ('message' in d ? d.message.type : 'unknown'), outcome);
    }
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
