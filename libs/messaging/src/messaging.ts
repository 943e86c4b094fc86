/**
 * Work that does not start from a message — an HTTP request, a scheduled job — run as a unit of work.
 *
 * Guarantee: the work's state changes and the messages it states commit in one transaction (the outbox rows are
 * written in it), so a message leaves if and only if the work committed; after the commit the rows are handed to this
 * process's relay, and a crash before it publishes leaves them for the relay's poll (outbox-relay.ts). The request's
 * correlation id and trace context travel in every message the work causes. A request that carried an Idempotency-Key
 * records its answer in the same transaction, or gets the answer recorded before (idempotency/idempotency-keys.ts).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { IncomingMessage as HttpRequest } from 'node:http';
import { childTraceparent, isTraceparent } from './envelope/trace-context.js';
import { type IdempotentRequest, idempotentRequestOf } from './idempotency/idempotency-keys.js';
import type { OutboxHandoff } from './outbox/outbox-relay.js';
import { type UnitOfWork, type UnitOfWorkSource, UnitOfWorkTransaction } from './unit-of-work.js';

export interface WorkContext {
  /** Carried into every message the work causes; an HTTP request's correlation id, typically. */
  correlationId?: string;
  traceparent?: string;
  tracestate?: string;
  /** The request's Idempotency-Key, when its endpoint takes one: the work runs once per key. */
  idempotency?: IdempotentRequest;
}

/**
 * Entry point for work that does not start from a message (an HTTP request, a scheduled job): runs `work` in one
 * transaction whose outgoing messages commit with it, then hands them to the relay.
 */
export class Messaging {
  private readonly source: UnitOfWorkSource;

  constructor(
    private readonly dataSource: DataSource,
    outbox: OutboxHandoff,
    service: string,
    publishableTypes: ReadonlySet<string>,
  ) {
    this.source = { service, publishableTypes, outbox };
  }

  async transaction<T>(work: (uow: UnitOfWork) => Promise<T>, context: WorkContext = {}): Promise<T> {
    const transaction = new UnitOfWorkTransaction(this.source);
    const result = await this.dataSource.transaction(async (manager) => {
      const uow = transaction.unitOfWork(
        manager,
        context.correlationId ?? randomUUID(),
        undefined,
        context.traceparent ?? childTraceparent(),
        context.tracestate,
      );
      const value = context.idempotency ? await context.idempotency.answer(manager, () => work(uow)) : await work(uow);
      await transaction.appendToOutbox((sql, params) => manager.query(sql, params));
      return value;
    });
    // No logger here (the class is framework-free); a warning reaches the process's log all the same.
    transaction.committed((err) => process.emitWarning(err));
    return result;
  }
}

/**
 * The work context of an HTTP request: its correlation id (nestjs-pino's request id — the caller's X-Correlation-Id,
 * or a new one) and the caller's W3C traceparent, so the messages a request causes continue its trace; and, on an
 * endpoint that takes Idempotency-Keys, the request's key (throws InvalidIdempotencyKey for a malformed one).
 */
export function workContextOf(req: HttpRequest & { id?: unknown }): WorkContext {
  const traceparent = req.headers.traceparent;
  const idempotency = idempotentRequestOf(req);
  return {
    correlationId: typeof req.id === 'string' && req.id ? req.id : undefined,
    traceparent: isTraceparent(traceparent) ? traceparent : undefined,
    ...(idempotency && { idempotency }),
  };
}
