/**
 * A unit of work: one database transaction in which a handler (or an HTTP use case) changes its state and states
 * the messages that change causes. The messages become outbox rows in that same transaction, so they exist if and
 * only if the change committed. Handlers never open transactions, publish to the channel, or acknowledge.
 */
import { checkVerb, type OutgoingMessage } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { amqpProperties, encode, envelope, type EnvelopeContext } from './envelope/cloud-event.js';
import { outgoingTraceContext } from './envelope/trace-context.js';
import type { OutboxRow } from './outbox/outbox-store.js';
import { exchangeFor } from './topology/topology.js';

export class UnitOfWork {
  private readonly rows: OutboxRow[] = [];
  private readonly onCommit: (() => void)[] = [];

  constructor(
    /** The transaction's entity manager: every read and write of the handler goes through it. */
    readonly manager: EntityManager,
    private readonly context: EnvelopeContext,
    private readonly allowedTypes: ReadonlySet<string>,
  ) {}

  /** Publishes an event once the transaction commits. */
  publish(message: OutgoingMessage): void {
    checkVerb(message, 'publish');
    this.append(message);
  }

  /** Sends a command once the transaction commits. */
  send(message: OutgoingMessage): void {
    checkVerb(message, 'send');
    this.append(message);
  }

  /**
   * Runs `callback` once the transaction has committed, never if it rolls back. A hint to start work the commit made
   * due (a call to a third party recorded as an intent, say), not a guarantee: a process that dies between the commit
   * and the callback never runs it, so the work it starts must also be found by a sweep of what the database holds.
   * A callback that throws is reported (runAfterCommit), never turned into a failure of the committed work.
   */
  afterCommit(callback: () => void): void {
    this.onCommit.push(callback);
  }

  /** The after-commit callbacks; taken once, when the transaction commits. */
  takeAfterCommit(): (() => void)[] {
    return this.onCommit.splice(0);
  }

  /** The outbox rows this unit of work produced; taken once, when it commits. */
  takeOutboxRows(): OutboxRow[] {
    return this.rows.splice(0);
  }

  private append(message: OutgoingMessage): void {
    const { messageType } = message;
    if (!this.allowedTypes.has(messageType.type)) {
      throw new Error(
        `the ${this.context.service} service does not publish ${messageType.type} (see ORDERFLOW_ROUTING)`,
      );
    }
    const event = envelope(messageType, message.subject, message.data, {
      ...this.context,
      ...outgoingTraceContext(this.context),
    });
    this.rows.push({
      messageId: event.id,
      exchange: exchangeFor(messageType),
      routingKey: messageType.type,
      orderingKey: message.subject,
      properties: amqpProperties(event, this.context.service) as Record<string, unknown>,
      body: encode(event),
    });
  }
}

/**
 * Runs a committed unit of work's after-commit callbacks. One that throws is reported and the rest still run: the
 * transaction has committed, so its caller must not see a failure.
 */
export function runAfterCommit(callbacks: readonly (() => void)[], report: (err: Error) => void): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (err) {
      report(err as Error);
    }
  }
}
