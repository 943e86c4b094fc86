// Composite events as values: which part arrived, in which order, twice, or beside a failure that ends the wait.
import { randomUUID } from 'node:crypto';
import {
  CapturePayment,
  type DataOf,
  type MessageType,
  OrderPlaced,
  OrderStatusChanged,
  PaymentAuthorized,
  PaymentDeclined,
  ReleaseStock,
  StockReserved,
  StockUnavailable,
  VoidPayment,
} from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { incomingMessage } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';
import { composite } from '../definition/composite.js';
import { defineSaga, InvalidSagaDefinition, rulesOf } from '../definition/saga-definition.js';
import { toMermaid } from '../diagram/mermaid.js';
import { applyEvent, type SagaInstance, type SagaStep } from './apply-event.js';

interface Data {
  notes: string[];
}
const paidAndReserved = composite('paid-and-reserved', [PaymentAuthorized, StockReserved]);
const capture = (_: Data, m: IncomingMessage) => CapturePayment.of({ orderId: m.subject });
const release = (_: Data, m: IncomingMessage) => ReleaseStock.of({ orderId: m.subject, reason: 'PAYMENT_DECLINED' });
const voidIt = (_: Data, m: IncomingMessage) => VoidPayment.of({ orderId: m.subject, reason: 'OUT_OF_STOCK' });
const confirmed = (_: Data, m: IncomingMessage) => OrderStatusChanged.of({ orderId: m.subject, status: 'CONFIRMED' });

const saga = defineSaga<Data>('joint-example', ({ when }) => ({
  states: ['Preparing', 'Capturing', 'Undoing'],
  initialData: () => ({ notes: [] }),
  initially: [when(OrderPlaced).transitionTo('Preparing')],
  during: {
    Preparing: [
      when(paidAndReserved.completed)
        .then((ctx) => void ctx.data.notes.push(`both in: ${ctx.message.data.parts.join(' then ')}`))
        .send(capture)
        .publish(confirmed)
        .transitionTo('Capturing'),
      // A part's own row may act on its arrival while the state waits for the others.
      when(PaymentAuthorized).then((ctx) => void ctx.data.notes.push('authorised')),
      when(PaymentDeclined).send(release).transitionTo('Undoing'),
      when(StockUnavailable).send(voidIt).transitionTo('Undoing'),
    ],
    Capturing: [when(PaymentDeclined).finalize()],
    Undoing: [when(StockReserved).finalize()],
  },
}));

const orderId = randomUUID();
const incoming = <M extends MessageType>(type: M, data: DataOf<M>) => incomingMessage(type, orderId, data);
const authorized = () =>
  incoming(PaymentAuthorized, { orderId, paymentId: randomUUID(), amount: 4990, currency: 'EUR' });
const reserved = () => incoming(StockReserved, { orderId });
const declined = () => incoming(PaymentDeclined, { orderId, code: 'DECLINED', reason: 'insufficient funds' });

const preparing: SagaInstance<Data> = { state: 'Preparing', data: { notes: [] }, version: 1 };
/** The instance as the engine would store it after `step`. */
const after = (step: SagaStep<Data>, version: number): SagaInstance<Data> => ({
  state: step.to,
  data: step.data,
  version,
  arrived: step.arrived,
});

describe('a composite event', () => {
  it.each([
    ['payment first', [authorized, reserved]],
    ['stock first', [reserved, authorized]],
  ] as const)('fires once both parts are in, in either order (%s)', async (_order, [first, second]) => {
    const one = await applyEvent(saga, preparing, first());
    expect(one).toMatchObject({ decision: 'applied', to: 'Preparing', write: 'update', outgoing: [] });
    expect(one.arrived).toEqual([first().type]);
    expect(one.history).toHaveLength(1);
    expect(one.history[0]).toMatchObject({
      kind: 'event',
      messageType: first().type,
      detail: { composite: 'paid-and-reserved', waitingFor: [second().type] },
    });

    const last = second();
    const two = await applyEvent(saga, after(one, 2), last);
    expect(two).toMatchObject({ decision: 'applied', from: 'Preparing', to: 'Capturing', arrived: [] });
    expect(two.outgoing.map((o) => o.message.messageType.type)).toEqual([CapturePayment.type, OrderStatusChanged.type]);
    expect(two.data.notes.at(-1)).toBe(`both in: ${first().type} then ${second().type}`);
    // The part, then the composite raised with the last part's id, then the move it made.
    expect(two.history.map((h) => [h.kind, h.messageType, h.messageId])).toEqual([
      ['event', last.type, last.id],
      ['event', paidAndReserved.completed.type, last.id],
      ['command', CapturePayment.type, undefined],
      ['published', OrderStatusChanged.type, undefined],
      ['transition', paidAndReserved.completed.type, last.id],
    ]);
  });

  it('runs a part’s own row when it arrives, and keeps its changes for the composite’s row', async () => {
    const one = await applyEvent(saga, preparing, authorized());
    expect(one.data.notes).toEqual(['authorised']);
    const two = await applyEvent(saga, after(one, 2), reserved());
    expect(two.data.notes).toEqual(['authorised', `both in: ${PaymentAuthorized.type} then ${StockReserved.type}`]);
  });

  it('counts a duplicated part once: the copy is ignored and the composite does not fire on it', async () => {
    const one = await applyEvent(saga, preparing, authorized());
    const again = await applyEvent(saga, after(one, 2), authorized());
    expect(again).toMatchObject({ decision: 'ignored', to: 'Preparing', write: 'none', outgoing: [] });
    expect(again.arrived).toEqual([PaymentAuthorized.type]);
    expect(again.history).toEqual([
      expect.objectContaining({
        kind: 'ignored',
        detail: { reason: 'already arrived for paid-and-reserved in Preparing' },
      }),
    ]);
    // Its own row did not run again either.
    expect(again.data.notes).toEqual(['authorised']);
  });

  it('is ended early by a failure, which forgets what had arrived', async () => {
    const one = await applyEvent(saga, preparing, reserved());
    const failed = await applyEvent(saga, after(one, 2), declined());
    expect(failed).toMatchObject({ to: 'Undoing', arrived: [] });
    expect(failed.outgoing.map((o) => o.message.messageType.type)).toEqual([ReleaseStock.type]);
    // The missing part arriving after the failure is an ordinary event of the state it finds.
    const late = await applyEvent(saga, after(failed, 3), reserved());
    expect(late).toMatchObject({ to: 'Final', arrived: [] });
  });

  it('is not waited for in a state that has no row for it: a part there follows that state’s rows', async () => {
    const capturing = { state: 'Capturing', data: { notes: [] }, version: 4, arrived: [] };
    const step = await applyEvent(saga, capturing, authorized());
    expect(step).toMatchObject({ decision: 'unexpected', to: 'Capturing', write: 'none' });
  });
});

describe('a composite in a definition', () => {
  it('subscribes the saga to its parts, not to its own event', () => {
    expect(saga.events.map((e) => e.type)).toEqual([
      OrderPlaced.type,
      PaymentAuthorized.type,
      StockReserved.type,
      PaymentDeclined.type,
      StockUnavailable.type,
    ]);
  });

  it('is drawn with its parts in the diagram', () => {
    expect(toMermaid(saga)).toContain(
      `Preparing --> Capturing : ${PaymentAuthorized.type} + ${StockReserved.type} (all arrived)`,
    );
    expect(rulesOf(saga).some((r) => r.event === paidAndReserved.completed.type)).toBe(true);
  });

  it('refuses a composite row that stays, a part’s own row that moves on, and a part shared by two composites', () => {
    const paidAndAvailable = composite('paid-and-available', [PaymentAuthorized, StockUnavailable]);
    const define = () =>
      defineSaga<Data>('bad-joint', ({ when }) => ({
        states: ['Preparing', 'Done'],
        initialData: () => ({ notes: [] }),
        initially: [when(OrderPlaced).transitionTo('Preparing')],
        during: {
          Preparing: [
            when(paidAndReserved.completed).transitionTo('Preparing'),
            when(paidAndAvailable.completed).transitionTo('Done'),
            when(StockReserved).transitionTo('Done'),
          ],
          Done: [when(PaymentDeclined).finalize()],
        },
      }));
    expect(define).toThrow(InvalidSagaDefinition);
    try {
      define();
    } catch (err) {
      expect((err as InvalidSagaDefinition).problems).toEqual([
        `Preparing, ${paidAndReserved.completed.type} must leave the state: what had arrived is forgotten only by leaving it`,
        `Preparing, ${StockReserved.type} is a part of paid-and-reserved there: its own row may only stay`,
        `Preparing, ${PaymentAuthorized.type} is a part of both paid-and-reserved and paid-and-available`,
      ]);
    }
  });

  it('refuses a composite in initially or duringAny: it waits in one state', () => {
    const define = () =>
      defineSaga<Data>('loose-joint', ({ when }) => ({
        states: ['Preparing'],
        initialData: () => ({ notes: [] }),
        initially: [when(OrderPlaced).transitionTo('Preparing')],
        during: { Preparing: [when(PaymentDeclined).finalize()] },
        duringAny: [when(paidAndReserved.completed).finalize()],
      }));
    expect(define).toThrow(/a composite waits in one state, so its row belongs in `during`/);
  });

  it('needs two distinct parts', () => {
    expect(() => composite('alone', [PaymentAuthorized])).toThrow(/two parts or more/);
    expect(() => composite('twice', [PaymentAuthorized, PaymentAuthorized])).toThrow(/named twice/);
  });
});
