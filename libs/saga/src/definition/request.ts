/**
 * A request, as MassTransit's `Request`: a command the saga sends and the answers it waits for — `completed`,
 * optionally `faulted` — with a timeout after which `timeoutExpired` arrives instead (after `retries` × `retry`, each
 * of which may send the command again). A row `.request(r)` sends the command and starts the timeout; any row that
 * leaves the state cancels the timeout, so an answer and a timeout never both count.
 *
 * It is a name for a pattern the table can already say (a send, a deadline, rows for the answers); naming it keeps the
 * three parts together and lets the table read as the conversation it is.
 */
import type { MessageType } from '@orderflow/contracts';
import { deadline, type SagaDeadline } from './deadline.js';
import type { MessageFactory } from './saga-context.js';

export interface SagaRequest<D, C extends MessageType = MessageType, F extends MessageType = MessageType> {
  readonly name: string;
  readonly send: MessageFactory<D>;
  readonly completed: C;
  readonly faulted?: F;
  /** The deadline behind the timeout; a state's `deadlines` entry names it to have it set on entering. */
  readonly deadline: SagaDeadline;
  /** The timeout passed and the command may be sent again. */
  readonly retry: SagaDeadline['retry'];
  /** The timeout passed for the last time. */
  readonly timeoutExpired: SagaDeadline['expired'];
}

export function request<D, C extends MessageType, F extends MessageType = MessageType>(
  name: string,
  options: {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the command may read any triggering event
    send: MessageFactory<D, any>;
    completed: C;
    faulted?: F;
    timeout: number;
    retries?: number;
  },
): SagaRequest<D, C, F> {
  const timeout = deadline(name, { after: options.timeout, retries: options.retries });
  return Object.freeze({
    name,
    send: options.send as MessageFactory<D>,
    completed: options.completed,
    faulted: options.faulted,
    deadline: timeout,
    retry: timeout.retry,
    timeoutExpired: timeout.expired,
  });
}
