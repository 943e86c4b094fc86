/**
 * A unit of work: one database transaction in which a handler (or an HTTP use case) changes its state and states
 * the messages that change causes. The messages become outbox rows in that same transaction, so they exist if and
 * only if the change committed. Handlers never open transactions, publish to the channel, or acknowledge.
 *
 * Units of work are built in one place, UnitOfWorkTransaction, for both the work an HTTP request or a job starts
 * (messaging.ts) and a consumer's batch of messages (queue-consumer.ts): the rows of every unit in a transaction are
 * written by one outbox INSERT before its COMMIT, and only after the COMMIT are they handed to this process's relay
 * and the after-commit callbacks run. A crash between the COMMIT and the handoff leaves the rows for the relay's poll
 * (outbox-relay.ts); a transaction that rolls back hands over nothing and runs no callback.
 */
import { checkVerb, type OutgoingMessage } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { amqpProperties, encode, envelope, type EnvelopeContext } from './envelope/cloud-event.js';
import { outgoingTraceContext } from './envelope/trace-context.js';
import type { OutboxHandoff } from './outbox/outbox-relay.js';
import { type AppendedRow, appendToOutbox, type OutboxRow, type Query } from './outbox/outbox-store.js';
import { exchangeFor } from './topology/topology.js';

/** What the units of work of one transaction leave to do: the rows to append before COMMIT, the callbacks after. */
interface Outgoing {
  readonly rows: OutboxRow[];
  readonly afterCommit: (() => void)[];
}

export class UnitOfWork {
  constructor(
    /** The transaction's entity manager: every read and write of the handler goes through it. */
    readonly manager: EntityManager,
    private readonly context: EnvelopeContext,
    private readonly allowedTypes: ReadonlySet<string>,
    /** Shared by every unit of work of one transaction (UnitOfWorkTransaction); a unit of work alone has its own. */
    private readonly outgoing: Outgoing = { rows: [], afterCommit: [] },
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
    this.outgoing.afterCommit.push(callback);
  }

  /** The after-commit callbacks of this unit of work's transaction; taken once, when the transaction commits. */
  takeAfterCommit(): (() => void)[] {
    return this.outgoing.afterCommit.splice(0);
  }

  /** The outbox rows of this unit of work's transaction; taken once, when it commits. */
  takeOutboxRows(): OutboxRow[] {
    return this.outgoing.rows.splice(0);
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
    this.outgoing.rows.push({
      messageId: event.id,
      exchange: exchangeFor(messageType),
      routingKey: messageType.type,
      orderingKey: message.subject,
      properties: amqpProperties(event, this.context.service) as Record<string, unknown>,
      body: encode(event),
    });
  }
}

/** What every unit of work of a service shares: who states the messages, which types it may, whose relay sends them. */
export interface UnitOfWorkSource {
  readonly service: string;
  readonly publishableTypes: ReadonlySet<string>;
  /** Takes the rows of each commit, so this process's relay publishes them at once. */
  readonly outbox: OutboxHandoff;
}

/**
 * The units of work of one database transaction: one for the work of an HTTP request or a job, one per new message
 * of a consumer's batch. The caller owns the transaction; this builds its units of work, appends all their messages
 * with one INSERT as the transaction's last statement, and after the COMMIT hands the rows to the relay and runs the
 * callbacks. Its cost does not grow with the units: one object per transaction, one INSERT, no await per unit.
 */
export class UnitOfWorkTransaction {
  private readonly outgoing: Outgoing = { rows: [], afterCommit: [] };
  private appended: readonly AppendedRow[] = [];

  constructor(private readonly source: UnitOfWorkSource) {}

  /**
   * A unit of work in the transaction `manager` belongs to. Its messages carry `correlationId`, the id of the message
   * that caused them (none for work that does not start from a message), and continue the trace of `traceparent`.
   */
  unitOfWork(
    manager: EntityManager,
    correlationId: string,
    causationId: string | undefined,
    traceparent: string | undefined,
    tracestate: string | undefined,
  ): UnitOfWork {
    return new UnitOfWork(
      manager,
      { service: this.source.service, correlationId, causationId, traceparent, tracestate },
      this.source.publishableTypes,
      this.outgoing,
    );
  }

  /** Appends the messages of every unit of work, in the order stated; the last statement before COMMIT. */
  async appendToOutbox(query: Query): Promise<void> {
    this.appended = await appendToOutbox(query, this.outgoing.rows, this.source.outbox.reservationMs);
  }

  /**
   * Once the transaction has committed, never otherwise: hands its rows to this process's relay, then runs the
   * after-commit callbacks, `report`ing any that throws (the work has committed; its caller must not see a failure).
   */
  committed(report: (err: Error) => void): void {
    if (this.appended.length > 0) this.source.outbox.committed(this.appended);
    runAfterCommit(this.outgoing.afterCommit, report);
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
