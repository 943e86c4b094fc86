/**
 * A message as its handler sees it: decoded, its envelope and data validated against the message type's schema, its
 * publisher checked. Handlers are plain functions of this and the unit of work they run in.
 *
 * Guarantee: a handler is called only for a message that passed `decode` and the publisher check, inside the
 * transaction that also records it in the inbox; so what it changes through `uow.manager` and states through
 * `uow.send`/`uow.publish` commits exactly once for the message, or not at all (queue-consumer.ts).
 */
import type { UnitOfWork } from '../unit-of-work.js';

/** A decoded, validated message as a handler sees it. */
export interface IncomingMessage<D = unknown> {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly data: D;
  readonly source: string;
  readonly time: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** 1 on first delivery, then 2, 3, … on each delayed retry. */
  readonly attempt: number;
  /**
   * True when a transient failure now would dead-letter the message instead of retrying it. A participant whose
   * step keeps failing (a gateway that never answers) reports the step failed on its last attempt, so the saga can
   * compensate, instead of leaving the message to the operators.
   */
  readonly lastAttempt: boolean;
  /** The queue it was consumed from. */
  readonly queue: string;
}

export type MessageHandlerFn<D = unknown> = (message: IncomingMessage<D>, uow: UnitOfWork) => Promise<void>;

export const ATTEMPT_HEADER = 'x-orderflow-attempt';
