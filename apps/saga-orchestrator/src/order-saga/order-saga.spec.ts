// The order saga's parallel step as a table, run on plain values (the engine's integration tests cover the database,
// the e2e tests the services): both answers in either order, each twice, a no crossing a yes in flight, both noes,
// deadlines and a cancellation while both steps run. Each case checks what a user of the suite would see: the commands
// the saga sends (each undo once, and only the one needed) and the status it publishes.
import { randomUUID } from 'node:crypto';
import {
  type DataOf,
  type MessageType,
  OrderCancellationRequested,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentVoided,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import { runSaga } from '@orderflow/saga/testing';
import { incomingMessage, orderPlacedData } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';
import { authorization, orderSaga, reservation } from './order-saga.js';

const orderId = randomUUID();
const at = <M extends MessageType>(type: M, data: DataOf<M>) => incomingMessage(type, orderId, data);
const placed = () => at(OrderPlaced, orderPlacedData(orderId, 2500));
const authorized = () => at(PaymentAuthorized, { orderId, paymentId: randomUUID(), amount: 2500, currency: 'EUR' });
const reserved = () => at(StockReserved, { orderId });
const declined = () => at(PaymentDeclined, { orderId, code: 'DECLINED', reason: 'card_declined' });
const unavailable = () => at(StockUnavailable, { orderId, skus: ['SKU-1'] });
const released = () => at(StockReleased, { orderId });
const voided = () => at(PaymentVoided, { orderId });
const cancellation = () => at(OrderCancellationRequested, { orderId });
const expired = (deadline: typeof authorization.deadline) =>
  at(deadline.expired, { deadline: deadline.name, attempt: deadline.retries + 1 });

/** What the saga said, as the other services and the merchant see it: command types and published statuses. */
async function run(messages: (() => IncomingMessage)[]) {
  const { instance, steps, outgoing } = await runSaga(
    orderSaga,
    messages.map((m) => m()),
  );
  return {
    state: instance?.state,
    sent: outgoing.filter((o) => o.how === 'send').map((o) => o.message.messageType.type),
    published: outgoing
      .filter((o) => o.how === 'publish')
      .map((o) => (o.message.data as { status: string; statusReason?: string }).statusReason ?? o.message.data),
    steps,
  };
}

describe('the order saga authorises and reserves at once', () => {
  it('sends both commands on placement, with a deadline for each', async () => {
    const { state, sent, steps } = await run([placed]);
    expect(state).toBe('AuthorizingAndReserving');
    expect(sent).toEqual(['payment.authorize.v1', 'warehouse.reserve-stock.v1']);
    expect(steps[0].schedule.map((s) => s.deadline.name)).toEqual(['payment', 'stock']);
  });

  it.each([
    ['payment first', [authorized, reserved]],
    ['stock first', [reserved, authorized]],
    ['each twice', [reserved, authorized, reserved, authorized]],
    ['payment twice before the stock', [authorized, authorized, reserved]],
  ])('captures once both have said yes (%s)', async (_order, answers) => {
    const { state, sent, published } = await run([placed, ...answers]);
    expect(state).toBe('CapturingPayment');
    expect(sent).toEqual(['payment.authorize.v1', 'warehouse.reserve-stock.v1', 'payment.capture.v1']);
    expect(published).toEqual([]);
  });

  it.each([
    ['the authorisation', authorized],
    ['the reservation', reserved],
  ])('waits with %s alone: nothing is captured', async (_what, answer) => {
    const { state, sent } = await run([placed, answer, answer]);
    expect(state).toBe('AuthorizingAndReserving');
    expect(sent).toEqual(['payment.authorize.v1', 'warehouse.reserve-stock.v1']);
  });

  it('withdraws each step’s deadline when that step answers, and both once it moves on', async () => {
    const { steps } = await run([placed, reserved, authorized]);
    expect(steps[1].unschedule.map((d) => d.name)).toEqual([reservation.deadline.name]);
    expect(steps[1].to).toBe('AuthorizingAndReserving');
    expect(steps[2].unschedule.map((d) => d.name)).toContain(authorization.deadline.name);
    expect(steps[2].to).toBe('CapturingPayment');
  });
});

describe('when one of the two says no, the other is undone, once', () => {
  // A decline holds no money, so only the stock is released; refused stock holds nothing, so only the payment is voided.
  const declinedUndo = { waiting: 'ReleasingStockAfterDecline', undo: 'warehouse.release-stock.v1', undone: released };
  const unavailableUndo = { waiting: 'VoidingPayment', undo: 'payment.void.v1', undone: voided };
  it.each([
    ['declined while the stock is reserved', [reserved, declined], declinedUndo, 'PAYMENT_DECLINED'],
    [
      'declined before the reservation answers, which then arrives',
      [declined, reserved],
      declinedUndo,
      'PAYMENT_DECLINED',
    ],
    ['declined, and the stock refused as well', [declined, unavailable], declinedUndo, 'PAYMENT_DECLINED'],
    ['out of stock while the payment is authorised', [authorized, unavailable], unavailableUndo, 'OUT_OF_STOCK'],
    [
      'out of stock before the authorisation answers, which then arrives',
      [unavailable, authorized],
      unavailableUndo,
      'OUT_OF_STOCK',
    ],
    ['out of stock, and the payment declined as well', [unavailable, declined], unavailableUndo, 'OUT_OF_STOCK'],
  ])(
    '%s: only the other step is undone, then CANCELLED with the reason',
    async (_what, answers, { waiting, undo, undone }, reason) => {
      expect((await run([placed, ...answers])).state).toBe(waiting);
      const done = await run([placed, ...answers, undone]);
      expect(done.state).toBe('Final');
      expect(done.sent).toEqual(['payment.authorize.v1', 'warehouse.reserve-stock.v1', undo]);
      expect(done.published).toEqual([reason]);
    },
  );
});

describe('a deadline or a cancellation while both steps run', () => {
  it.each([
    ['the payment deadline, the stock reserved', [reserved, () => expired(authorization.deadline)], 'TIMED_OUT'],
    ['the stock deadline, the payment authorised', [authorized, () => expired(reservation.deadline)], 'TIMED_OUT'],
    ['the merchant cancels, nothing answered yet', [cancellation], 'CUSTOMER_CANCELLED'],
    ['the merchant cancels, then the late answers arrive', [cancellation, authorized, reserved], 'CUSTOMER_CANCELLED'],
  ])('%s: release, then void, CANCELLED with the reason', async (_what, events, reason) => {
    const done = await run([placed, ...events, released, authorized, voided]);
    expect(done.state).toBe('Final');
    expect(done.sent).toEqual([
      'payment.authorize.v1',
      'warehouse.reserve-stock.v1',
      'warehouse.release-stock.v1',
      'payment.void.v1',
    ]);
    expect(done.published).toEqual([reason]);
  });
});

describe('an order the sequential version left waiting for its payment when this one was deployed', () => {
  it('goes on through the retired states, one step after the other, to the capture', async () => {
    const left = (await runSaga(orderSaga, [placed()])).instance!;
    const { instance, outgoing } = await runSaga(orderSaga, [authorized(), reserved()], {
      ...left,
      state: 'AwaitingPayment',
      arrived: [],
    });
    expect(instance?.state).toBe('CapturingPayment');
    expect(outgoing.map((o) => o.message.messageType.type)).toEqual([
      'warehouse.reserve-stock.v1',
      'payment.capture.v1',
    ]);
  });
});
