/**
 * What a saga's own code is given and gives back: the context an activity runs in, and the functions that make its
 * outgoing messages. Behaviours (behavior.ts) and requests (request.ts) are both built from these, so they live
 * apart from both.
 */
import type { OutgoingMessage } from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';

/** What an activity sees: the instance's data (mutable) and the event being handled. */
export interface SagaContext<D, E = unknown> {
  readonly sagaType: string;
  /** The instance's id: what the definition correlates by (`SagaSpec.correlateBy`), the subject by default. */
  readonly correlationId: string;
  /** The state the event arrived in; `Initial` when it creates the instance. */
  readonly state: string;
  /** Plain JSON: it is stored as jsonb, so a Date comes back as a string. Change it in place or replace it. */
  data: D;
  readonly message: IncomingMessage<E>;
  /** Sends a command once the unit of work commits. */
  send(message: OutgoingMessage): void;
  /** Publishes an event once the unit of work commits. */
  publish(message: OutgoingMessage): void;
}

export type Activity<D, E = unknown> = (context: SagaContext<D, E>) => void | Promise<void>;

/** Makes one outgoing message from the instance's data and the event, e.g. `(d, m) => ReserveStock.of(…, m.subject)`. */
export type MessageFactory<D, E = unknown> = (data: D, message: IncomingMessage<E>) => OutgoingMessage;
