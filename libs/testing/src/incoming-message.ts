/**
 * A message as a consumer hands it to its handler, for tests that call handlers or the saga engine with values: a
 * fresh id and correlation id, first attempt, now. Only the type, subject and data vary between tests.
 */
import { randomUUID } from 'node:crypto';
import type { DataOf, MessageType } from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';

export function incomingMessage<M extends MessageType>(
  type: M,
  subject: string,
  data: DataOf<M>,
  queue = 'saga.events',
): IncomingMessage<DataOf<M>> {
  return {
    id: randomUUID(),
    type: type.type,
    subject,
    data,
    source: '/orderflow/test',
    time: new Date().toISOString(),
    correlationId: randomUUID(),
    attempt: 1,
    lastAttempt: false,
    queue,
  };
}
