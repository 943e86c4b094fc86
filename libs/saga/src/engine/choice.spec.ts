// A row that leads to one of several states, chosen from the instance's data: how a parked saga goes back to the
// step it stopped in. The table (and its diagram) lists every possible target; the engine refuses any other.
import { randomUUID } from 'node:crypto';
import { OrderCancellationRequested, OrderPlaced, PaymentAuthorized } from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { describe, expect, it } from 'vitest';
import { defineSaga, InvalidSagaDefinition, rulesOf } from '../definition/saga-definition.js';
import { toMermaid } from '../diagram/mermaid.js';
import { applyEvent } from './apply-event.js';

type State = 'Waiting' | 'Parked' | 'Left' | 'Right';
interface Data {
  parkedIn?: 'Left' | 'Right';
  rogue?: boolean;
}

const saga = defineSaga<Data, State>('choice-example', ({ when }) => ({
  states: ['Waiting', 'Parked', 'Left', 'Right'],
  initially: [when(OrderPlaced).transitionTo('Waiting')],
  during: {
    Waiting: [when(PaymentAuthorized).transitionTo('Parked')],
    Parked: [
      when(OrderCancellationRequested).transitionToOneOf(['Left', 'Right'], (d) =>
        d.rogue ? ('Waiting' as 'Left') : (d.parkedIn ?? 'Left'),
      ),
    ],
    Left: [when(PaymentAuthorized).finalize()],
    Right: [when(PaymentAuthorized).finalize()],
  },
}));

const cancellation = (orderId: string): IncomingMessage => ({
  id: randomUUID(),
  type: OrderCancellationRequested.type,
  subject: orderId,
  data: { orderId },
  source: '/test',
  time: new Date().toISOString(),
  correlationId: orderId,
  attempt: 1,
  lastAttempt: false,
  queue: 'saga.events',
});

describe('a choice of target', () => {
  it('goes where the data says, and records that transition', async () => {
    const step = await applyEvent(
      saga,
      { state: 'Parked', data: { parkedIn: 'Right' }, version: 3 },
      cancellation(randomUUID()),
    );
    expect(step.to).toBe('Right');
    expect(step.history.find((h) => h.kind === 'transition')).toMatchObject({ fromState: 'Parked', toState: 'Right' });
  });

  it('refuses a state the row does not name, changing nothing', async () => {
    await expect(
      applyEvent(saga, { state: 'Parked', data: { rogue: true }, version: 3 }, cancellation(randomUUID())),
    ).rejects.toThrow(/chose "Waiting", which is not one of Left, Right/);
  });

  it('is one row per possible target in the table and the diagram', () => {
    const rows = rulesOf(saga).filter((r) => r.from === 'Parked');
    expect(rows.map((r) => r.to)).toEqual(['Left', 'Right']);
    expect(toMermaid(saga)).toContain('Parked --> Left');
    expect(toMermaid(saga)).toContain('Parked --> Right');
  });

  it('must name declared states only', () => {
    expect(() =>
      defineSaga<Data>('bad-choice', ({ when }) => ({
        states: ['Waiting'],
        initially: [when(OrderPlaced).transitionTo('Waiting')],
        during: { Waiting: [when(PaymentAuthorized).transitionToOneOf(['Waiting', 'Nowhere'], () => 'Waiting')] },
      })),
    ).toThrow(InvalidSagaDefinition);
  });
});
