import { randomUUID } from 'node:crypto';
import {
  AuthorizePayment,
  type DataOf,
  type MessageType,
  OrderCancellationRequested,
  OrderPlaced,
  OrderStatusChanged,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentVoided,
  ReserveStock,
  StockReserved,
  VoidPayment,
} from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { incomingMessage, orderPlacedData } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';
import type { SagaContext } from '../definition/saga-context.js';
import { defineSaga } from '../definition/saga-definition.js';
import { OperatorRetry } from '../definition/operator-actions.js';
import { applyEvent, type SagaInstance } from './apply-event.js';

interface PaymentData {
  amount?: number;
  paymentId?: string;
  notes: string[];
}
type PaymentState = 'AwaitingPayment' | 'ReservingStock' | 'Cancelling';

function rememberOrder(ctx: SagaContext<PaymentData, DataOf<typeof OrderPlaced>>) {
  ctx.data.amount = ctx.message.data.totalAmount;
}
function recordPayment(ctx: SagaContext<PaymentData, DataOf<typeof PaymentAuthorized>>) {
  ctx.data.paymentId = ctx.message.data.paymentId;
}
const authorizePayment = (data: PaymentData, m: IncomingMessage<DataOf<typeof OrderPlaced>>) =>
  AuthorizePayment.of({ orderId: m.subject, amount: data.amount!, currency: 'EUR', paymentToken: m.data.paymentToken });
const reserveStock = (_: PaymentData, m: IncomingMessage) =>
  ReserveStock.of({ orderId: m.subject, items: [{ sku: 'SKU-1', quantity: 1 }] });
const voidPayment = (_: PaymentData, m: IncomingMessage) => VoidPayment.of({ orderId: m.subject, reason: 'cancelled' });
const statusIs = (status: 'CONFIRMED' | 'CANCELLED') =>
  function announceStatus(_: PaymentData, m: IncomingMessage) {
    return OrderStatusChanged.of({ orderId: m.subject, status });
  };

const saga = defineSaga<PaymentData, PaymentState>('payment-example', ({ when, ignore }) => ({
  states: ['AwaitingPayment', 'ReservingStock', 'Cancelling'],
  initialData: () => ({ notes: [] }),
  initially: [when(OrderPlaced).then(rememberOrder).send(authorizePayment).transitionTo('AwaitingPayment')],
  during: {
    AwaitingPayment: [
      when(PaymentAuthorized).then(recordPayment).send(reserveStock).transitionTo('ReservingStock'),
      when(PaymentDeclined).publish(statusIs('CANCELLED')).finalize(),
      // Nothing to void yet: this state's own row replaces the duringAny one.
      when(OrderCancellationRequested).publish(statusIs('CANCELLED')).finalize(),
    ],
    ReservingStock: [
      when(StockReserved)
        .then((ctx) => void ctx.data.notes.push('reserved'))
        .publish(statusIs('CONFIRMED'))
        .finalize(),
      when(PaymentAuthorized).then((ctx) => void ctx.data.notes.push('authorized again')),
    ],
    Cancelling: [when(PaymentVoided).publish(statusIs('CANCELLED')).finalize(), ignore(OrderCancellationRequested)],
  },
  duringAny: [when(OrderCancellationRequested).send(voidPayment).transitionTo('Cancelling')],
  unexpected: { ReservingStock: 'ignore', Final: 'ignore' },
  redact: ['paymentToken'],
}));

const orderId = randomUUID();
const placed = orderPlacedData(orderId);
const authorized = { orderId, paymentId: randomUUID(), amount: 4990, currency: 'EUR' };

const incoming = <M extends MessageType>(type: M, data: DataOf<M>) => incomingMessage(type, orderId, data);
const instanceIn = (state: string, data: PaymentData = { amount: 4990, notes: [] }): SagaInstance<PaymentData> => ({
  state,
  data,
  version: 3,
});

describe('an initial event', () => {
  it('creates the instance from initialData, runs the steps in order and records them', async () => {
    const message = incoming(OrderPlaced, placed);
    const step = await applyEvent(saga, undefined, message);

    expect(step).toMatchObject({ decision: 'applied', from: 'Initial', to: 'AwaitingPayment', write: 'create' });
    expect(step.data).toEqual({ amount: 4990, notes: [] });
    expect(step.outgoing.map((o) => [o.how, o.message.messageType.type, o.message.data])).toEqual([
      ['send', 'payment.authorize.v1', { orderId, amount: 4990, currency: 'EUR', paymentToken: 'tok_1' }],
    ]);
    expect(step.history).toEqual([
      {
        kind: 'event',
        messageType: 'order.placed.v1',
        messageId: message.id,
        fromState: 'Initial',
        toState: 'AwaitingPayment',
        // Credentials are kept out of the history operators read; the command itself still carries the token.
        detail: { source: '/orderflow/test', data: { ...placed, paymentToken: '[redacted]' } },
      },
      {
        kind: 'command',
        messageType: 'payment.authorize.v1',
        detail: { subject: orderId, data: { orderId, amount: 4990, currency: 'EUR', paymentToken: '[redacted]' } },
      },
      {
        kind: 'transition',
        messageType: 'order.placed.v1',
        messageId: message.id,
        fromState: 'Initial',
        toState: 'AwaitingPayment',
        detail: { rule: 'initially' },
      },
    ]);
  });

  it('for an instance that does not exist yet follows the Initial policy (record, by default)', async () => {
    const message = incoming(PaymentAuthorized, authorized);
    const step = await applyEvent(saga, undefined, message);
    expect(step).toMatchObject({ decision: 'unexpected', from: 'Initial', to: 'Initial', write: 'none' });
    expect(step.outgoing).toEqual([]);
    expect(step.history).toEqual([
      {
        kind: 'unexpected',
        messageType: 'payment.authorized.v1',
        messageId: message.id,
        fromState: 'Initial',
        detail: { reason: 'no row for it in Initial', source: '/orderflow/test', data: authorized },
      },
    ]);
  });
});

describe('an event during a state', () => {
  it('runs that state’s row on a copy of the data and updates the instance', async () => {
    const instance = instanceIn('AwaitingPayment');
    const step = await applyEvent(saga, instance, incoming(PaymentAuthorized, authorized));
    expect(step).toMatchObject({ decision: 'applied', from: 'AwaitingPayment', to: 'ReservingStock', write: 'update' });
    expect(step.data).toEqual({ amount: 4990, paymentId: authorized.paymentId, notes: [] });
    expect(instance.data).toEqual({ amount: 4990, notes: [] });
    expect(step.outgoing.map((o) => o.message.messageType.type)).toEqual(['warehouse.reserve-stock.v1']);
    expect(step.history.map((h) => h.kind)).toEqual(['event', 'command', 'transition']);
  });

  it('that keeps the state changes the data and records no transition', async () => {
    const step = await applyEvent(saga, instanceIn('ReservingStock'), incoming(PaymentAuthorized, authorized));
    expect(step).toMatchObject({ decision: 'applied', from: 'ReservingStock', to: 'ReservingStock', write: 'update' });
    expect(step.data.notes).toEqual(['authorized again']);
    expect(step.history.map((h) => h.kind)).toEqual(['event']);
  });

  it('that finalizes moves the instance to Final, publishing first', async () => {
    const step = await applyEvent(saga, instanceIn('ReservingStock'), incoming(StockReserved, { orderId }));
    expect(step).toMatchObject({ decision: 'applied', from: 'ReservingStock', to: 'Final', write: 'update' });
    expect(step.outgoing.map((o) => [o.how, o.message.data])).toEqual([['publish', { orderId, status: 'CONFIRMED' }]]);
    expect(step.history.map((h) => [h.kind, h.toState])).toEqual([
      ['event', 'Final'],
      ['published', undefined],
      ['transition', 'Final'],
    ]);
    expect(step.history.at(-1)?.detail).toEqual({ rule: 'during', completed: true });
  });
});

describe('duringAny', () => {
  const cancel = () => incoming(OrderCancellationRequested, { orderId });

  it('applies in a state with no row of its own for the event', async () => {
    const step = await applyEvent(saga, instanceIn('ReservingStock'), cancel());
    expect(step).toMatchObject({ decision: 'applied', to: 'Cancelling' });
    expect(step.outgoing.map((o) => o.message.messageType.type)).toEqual(['payment.void.v1']);
    expect(step.history.at(-1)?.detail).toEqual({ rule: 'duringAny' });
  });

  it('gives way to the state’s own row for the same event', async () => {
    const step = await applyEvent(saga, instanceIn('AwaitingPayment'), cancel());
    expect(step).toMatchObject({ decision: 'applied', to: 'Final' });
    expect(step.outgoing.map((o) => o.message.messageType.type)).toEqual(['fulfilment.order-status-changed.v1']);
  });

  it('gives way to the state’s own ignore()', async () => {
    const message = cancel();
    const step = await applyEvent(saga, instanceIn('Cancelling'), message);
    expect(step).toMatchObject({ decision: 'ignored', from: 'Cancelling', to: 'Cancelling', write: 'none' });
    expect(step.outgoing).toEqual([]);
    expect(step.history).toEqual([
      {
        kind: 'ignored',
        messageType: 'order.cancellation-requested.v1',
        messageId: message.id,
        fromState: 'Cancelling',
        detail: { reason: 'ignored in Cancelling' },
      },
    ]);
  });

  it('does not apply once the instance is Final', async () => {
    const step = await applyEvent(saga, instanceIn('Final'), cancel());
    expect(step).toMatchObject({ decision: 'ignored', from: 'Final', to: 'Final', write: 'none' });
  });

  it('does not start an instance', async () => {
    const step = await applyEvent(saga, undefined, cancel());
    expect(step).toMatchObject({ decision: 'unexpected', from: 'Initial', write: 'none' });
  });
});

describe('an unexpected event', () => {
  it('is only recorded as ignored in a state whose policy is ignore', async () => {
    const message = incoming(PaymentDeclined, { orderId, code: 'DECLINED', reason: 'no funds' });
    const instance = instanceIn('ReservingStock');
    const step = await applyEvent(saga, instance, message);
    expect(step).toMatchObject({ decision: 'ignored', to: 'ReservingStock', write: 'none', outgoing: [] });
    expect(step.data).toBe(instance.data);
    expect(step.history).toEqual([
      {
        kind: 'ignored',
        messageType: 'payment.declined.v1',
        messageId: message.id,
        fromState: 'ReservingStock',
        detail: { reason: 'no row for it in ReservingStock' },
      },
    ]);
  });

  it('is recorded with its data, and the instance kept, in a state whose policy is record', async () => {
    const message = incoming(StockReserved, { orderId });
    const step = await applyEvent(saga, instanceIn('AwaitingPayment'), message);
    expect(step).toMatchObject({ decision: 'unexpected', to: 'AwaitingPayment', write: 'none', outgoing: [] });
    expect(step.history).toEqual([
      {
        kind: 'unexpected',
        messageType: 'warehouse.stock-reserved.v1',
        messageId: message.id,
        fromState: 'AwaitingPayment',
        detail: { reason: 'no row for it in AwaitingPayment', source: '/orderflow/test', data: { orderId } },
      },
    ]);
  });

  it('follows the default policy where a state has none', async () => {
    const quiet = defineSaga('quiet', ({ when }) => ({
      states: ['Open'],
      initially: [when(OrderPlaced).transitionTo('Open')],
      during: { Open: [when(StockReserved).finalize()] },
      unexpected: { default: 'ignore' },
    }));
    const open = { state: 'Open', data: {}, version: 1 };
    expect((await applyEvent(quiet, open, incoming(PaymentVoided, { orderId }))).decision).toBe('ignored');
    expect((await applyEvent(quiet, undefined, incoming(PaymentVoided, { orderId }))).decision).toBe('ignored');
  });
});

describe('steps that go wrong', () => {
  it('an activity that throws leaves the loaded instance as it was', async () => {
    const failing = defineSaga<{ touched: boolean }>('failing', ({ when }) => ({
      states: ['Open'],
      initialData: () => ({ touched: false }),
      initially: [when(OrderPlaced).transitionTo('Open')],
      during: {
        Open: [
          when(StockReserved)
            .then((ctx) => {
              ctx.data.touched = true;
              throw new Error('gateway down');
            })
            .finalize(),
        ],
      },
    }));
    const instance = { state: 'Open', data: { touched: false }, version: 1 };
    await expect(applyEvent(failing, instance, incoming(StockReserved, { orderId }))).rejects.toThrow('gateway down');
    expect(instance.data.touched).toBe(false);
  });

  it('sending an event or publishing a command is refused', async () => {
    const confused = defineSaga('confused', ({ when }) => ({
      states: ['Open'],
      initially: [
        when(OrderPlaced)
          .send((_, m) => StockReserved.of({ orderId: m.subject }))
          .transitionTo('Open'),
        when(PaymentVoided)
          .publish((_, m) => VoidPayment.of({ orderId: m.subject, reason: 'x' }))
          .transitionTo('Open'),
      ],
      during: { Open: [when(StockReserved).finalize()] },
    }));
    await expect(applyEvent(confused, undefined, incoming(OrderPlaced, placed))).rejects.toThrow(
      'warehouse.stock-reserved.v1 is an event: use publish()',
    );
    await expect(applyEvent(confused, undefined, incoming(PaymentVoided, { orderId }))).rejects.toThrow(
      'payment.void.v1 is a command: use send()',
    );
  });
});

describe('what the definition declares about its messages', () => {
  const byData = defineSaga<{ seen: string[] }>('by-data', ({ when }) => ({
    states: ['Open'],
    initialData: () => ({ seen: [] }),
    correlateBy: (message) => (message.data as { orderId: string }).orderId,
    initially: [
      when(OrderPlaced)
        .then((ctx) => void ctx.data.seen.push(ctx.correlationId))
        .transitionTo('Open'),
    ],
    during: { Open: [when(StockReserved).finalize()] },
  }));

  it('correlates broker events as it says, and its own deadlines and operator actions by their subject', () => {
    const elsewhere = randomUUID();
    const placedHere = { ...incoming(OrderPlaced, { ...placed, orderId: elsewhere }) };
    expect(byData.correlationIdOf(placedHere)).toBe(elsewhere);
    const retry = { ...incoming(StockReserved, { orderId: elsewhere }), type: OperatorRetry.type };
    expect(byData.correlationIdOf(retry)).toBe(orderId);
    expect(saga.correlationIdOf(incoming(StockReserved, { orderId: elsewhere }))).toBe(orderId);
  });

  it('gives activities the correlation id it declares', async () => {
    const elsewhere = randomUUID();
    const step = await applyEvent(byData, undefined, incoming(OrderPlaced, { ...placed, orderId: elsewhere }));
    expect(step.data.seen).toEqual([elsewhere]);
  });

  it('redacts only the fields it names', async () => {
    const step = await applyEvent(byData, undefined, incoming(OrderPlaced, placed));
    expect(step.history[0].detail).toEqual({ source: '/orderflow/test', data: placed });
  });
});
