// Events for an instance that does not exist: each message type follows the saga's declared policy.
import { randomUUID } from 'node:crypto';
import {
  type MessageType,
  OrderCancellationRequested,
  OrderPlaced,
  PaymentAuthorized,
  StockReserved,
} from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { TransientError } from '@orderflow/messaging';
import { describe, expect, it } from 'vitest';
import { defineSaga } from '../definition/saga-definition.js';
import { applyEvent, SagaInstanceMissing } from './apply-event.js';

const saga = defineSaga('missing-example', ({ when }) => ({
  states: ['Open'],
  initially: [when(OrderPlaced).transitionTo('Open')],
  during: {
    Open: [
      when(PaymentAuthorized).finalize(),
      when(OrderCancellationRequested).finalize(),
      when(StockReserved).finalize(),
    ],
  },
  missingInstance: { [OrderCancellationRequested.type]: 'park', [PaymentAuthorized.type]: 'discard' },
}));

const message = (type: MessageType): IncomingMessage => ({
  id: randomUUID(),
  type: type.type,
  subject: randomUUID(),
  data: {},
  source: '/test',
  time: new Date().toISOString(),
  correlationId: randomUUID(),
  attempt: 1,
  lastAttempt: false,
  queue: 'saga.events',
});

describe('an event whose instance does not exist', () => {
  it('parked: refused for now as a transient failure, so the consumer tries it again later', async () => {
    const refused = applyEvent(saga, undefined, message(OrderCancellationRequested));
    await expect(refused).rejects.toBeInstanceOf(SagaInstanceMissing);
    await expect(refused).rejects.toBeInstanceOf(TransientError);
  });

  it('discarded: no instance, no history, nothing sent', async () => {
    const step = await applyEvent(saga, undefined, message(PaymentAuthorized));
    expect(step).toMatchObject({ decision: 'ignored', write: 'none', history: [], outgoing: [] });
  });

  it('by default recorded as unexpected, as before', async () => {
    const step = await applyEvent(saga, undefined, message(StockReserved));
    expect(step.decision).toBe('unexpected');
    expect(step.history.map((h) => h.kind)).toEqual(['unexpected']);
  });

  it('is applied normally once the instance exists', async () => {
    const step = await applyEvent(saga, { state: 'Open', data: {}, version: 1 }, message(OrderCancellationRequested));
    expect(step.to).toBe('Final');
  });

  it('may be declared only for messages the saga consumes, with a known policy', () => {
    expect(() =>
      defineSaga('bad-missing', ({ when }) => ({
        states: ['Open'],
        initially: [when(OrderPlaced).transitionTo('Open')],
        during: { Open: [when(PaymentAuthorized).finalize()] },
        missingInstance: { 'payment.voided.v1': 'park', [PaymentAuthorized.type]: 'later' as 'park' },
      })),
    ).toThrow(/payment.voided.v1, which the saga does not consume[\s\S]*"later"/);
  });
});
