// Duplicated and reordered events, injected straight onto the broker by a second AMQP client (Python's pika) as the
// participants would publish them, reach the real saga orchestrator: every order ends in the same state, having sent
// the same commands and published the same statuses, as an order whose events came once and in order. The answers to
// the two steps that run at once (authorisation and reservation) arrive in both orders, twice, and crossing a no.
import { randomUUID } from 'node:crypto';
import {
  type DataOf,
  type MessageType,
  OrderCancellationRequested,
  OrderPlaced,
  PaymentAuthorized,
  PaymentDeclined,
  PaymentVoided,
  PaymentCaptured,
  ShipmentCreated,
  ShipmentDelivered,
  StockPicked,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '@orderflow/contracts';
import { amqpProperties, encode, envelope, exchangeFor } from '@orderflow/messaging';
import type { ServiceName } from '@orderflow/platform';
import {
  asOperator,
  type InjectedMessage,
  injectWithPika,
  RabbitMqManagement,
  ServiceProcess,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const saga = new ServiceProcess('saga', { RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '400' });
const management = new RabbitMqManagement();
// The orchestrator's commands and statuses have no consumer here: emptied before and after.
const OTHER_QUEUES = ['payment.commands', 'warehouse.commands', 'logistics.commands', 'order.status-updates'];

type HistoryEntry = { kind: string; messageType: string; detail: { data?: { status?: string } } };
type Saga = { state: string; history: HistoryEntry[] };

/** One event as its participant publishes it; `id` given to repeat a delivery of the very same message. */
function event<M extends MessageType>(type: M, orderId: string, data: DataOf<M>, id?: string): InjectedMessage {
  const service = type.domain as ServiceName;
  const cloudEvent = { ...envelope(type, orderId, data, { service, correlationId: orderId }), ...(id && { id }) };
  return {
    sender: service,
    exchange: exchangeFor(type),
    routingKey: type.type,
    body: encode(cloudEvent),
    properties: amqpProperties(cloudEvent, service),
  };
}

/** The events of one order that goes well, each made once; a test repeats and reorders them. */
function eventsOf(orderId: string) {
  const paymentId = randomUUID();
  const shipmentId = randomUUID();
  return {
    placed: event(OrderPlaced, orderId, {
      orderId,
      customerId: 'customer-ordering',
      items: [{ sku: 'SKU-ORDERING', quantity: 1, unitPrice: 1200 }],
      totalAmount: 1200,
      currency: 'EUR',
      paymentToken: 'tok_ok',
      shippingAddress: { name: 'Ada', line1: '1 Street', city: 'Town', postalCode: '1000', country: 'BE' },
    }),
    authorized: event(PaymentAuthorized, orderId, { orderId, paymentId, amount: 1200, currency: 'EUR' }),
    reserved: event(StockReserved, orderId, { orderId }),
    declined: event(PaymentDeclined, orderId, { orderId, code: 'DECLINED', reason: 'card_declined' }),
    unavailable: event(StockUnavailable, orderId, { orderId, skus: ['SKU-ORDERING'] }),
    released: event(StockReleased, orderId, { orderId }),
    voided: event(PaymentVoided, orderId, { orderId, paymentId }),
    captured: event(PaymentCaptured, orderId, { orderId, paymentId, amount: 1200, currency: 'EUR' }),
    created: event(ShipmentCreated, orderId, { orderId, shipmentId, trackingNumber: 'TRACK-1' }),
    picked: event(StockPicked, orderId, { orderId }),
    delivered: event(ShipmentDelivered, orderId, { orderId, shipmentId, deliveredAt: new Date().toISOString() }),
  };
}

/** The same message delivered again (same id: the inbox's case) or published again (new id: the saga's case). */
const redelivered = (m: InjectedMessage): InjectedMessage => ({ ...m });
function republished(m: InjectedMessage): InjectedMessage {
  const cloudEvent = { ...(JSON.parse(m.body.toString()) as { id: string }), id: randomUUID() };
  return {
    ...m,
    body: Buffer.from(JSON.stringify(cloudEvent)),
    properties: { ...m.properties, messageId: cloudEvent.id },
  };
}

const sagaOf = async (orderId: string) =>
  (await (await fetch(`${saga.url}/sagas/${orderId}`, { headers: asOperator() })).json()) as Saga;

type Events = ReturnType<typeof eventsOf>;

/** Waits for the saga to reach `state`: the step before the test injects the answer to what it sent there. */
const stateOf = (orderId: string, state: string) =>
  waitFor(async () => (await sagaOf(orderId)).state === state, {
    timeoutMs: 20_000,
    intervalMs: 200,
    what: `the saga of ${orderId} to be in ${state}`,
  });

/** What the saga did, as a user of the suite sees it: its state, the commands it sent and the statuses it published. */
async function netEffect(orderId: string) {
  const s = await waitFor(
    async () => {
      const found = await sagaOf(orderId);
      return found.state === 'Final' && found;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `the saga of ${orderId} to finish` },
  );
  // Late duplicates after the end must change nothing either: give them time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await sagaOf(orderId);
  return {
    state: after.state,
    commands: after.history.filter((h) => h.kind === 'command').map((h) => h.messageType),
    statuses: after.history.filter((h) => h.kind === 'published').map((h) => h.detail.data?.status),
    finalUnchanged:
      after.history.filter((h) => h.kind === 'transition').length ===
      s.history.filter((h) => h.kind === 'transition').length,
  };
}

async function purge() {
  for (const queue of ['saga.events', ...OTHER_QUEUES]) await management.delete(`/queues/orderflow/${queue}/contents`);
}

beforeAll(async () => {
  await purge();
  await saga.start().waitReady();
}, 60_000);

afterAll(async () => {
  await saga.stop();
  await purge();
});

describe('events injected by another AMQP client', () => {
  let inOrder: Awaited<ReturnType<typeof netEffect>>;

  it('once and in order: the order confirmed, shipped and delivered', async () => {
    const orderId = randomUUID();
    const e = eventsOf(orderId);
    await injectWithPika([e.placed, e.authorized, e.reserved, e.captured, e.created, e.picked, e.delivered]);
    inOrder = await netEffect(orderId);
    expect(inOrder).toEqual({
      state: 'Final',
      commands: [
        'payment.authorize.v1',
        'warehouse.reserve-stock.v1',
        'payment.capture.v1',
        'logistics.create-shipment.v1',
        'warehouse.pick-stock.v1',
      ],
      statuses: ['CONFIRMED', 'SHIPPED', 'DELIVERED'],
      finalUnchanged: true,
    });
  });

  it.each([
    [
      'every message delivered twice',
      (e: ReturnType<typeof eventsOf>) =>
        [e.placed, e.authorized, e.reserved, e.captured, e.created, e.picked, e.delivered].flatMap((m) => [
          m,
          redelivered(m),
        ]),
    ],
    [
      'every event published twice by its participant',
      (e: ReturnType<typeof eventsOf>) =>
        [e.placed, e.authorized, e.reserved, e.captured, e.created, e.picked, e.delivered].flatMap((m) => [
          m,
          republished(m),
        ]),
    ],
    [
      'the reservation before the authorisation, each delivered and published twice',
      (e: ReturnType<typeof eventsOf>) => [
        e.placed,
        e.reserved,
        e.authorized,
        republished(e.reserved),
        redelivered(e.authorized),
        e.captured,
        e.created,
        e.picked,
        e.delivered,
      ],
    ],
    [
      "the carrier's delivery before the booking's confirmation",
      (e: ReturnType<typeof eventsOf>) => [
        e.placed,
        e.authorized,
        e.reserved,
        e.captured,
        e.delivered,
        e.created,
        e.picked,
      ],
    ],
    [
      'the delivery before the picking, and late duplicates after the end',
      (e: ReturnType<typeof eventsOf>) => [
        e.placed,
        e.authorized,
        republished(e.authorized),
        e.reserved,
        e.captured,
        e.created,
        e.delivered,
        e.picked,
        republished(e.captured),
        republished(e.delivered),
        redelivered(e.picked),
      ],
    ],
  ])('%s: the same net effect as in order', async (_what, arrange) => {
    const orderId = randomUUID();
    await injectWithPika(arrange(eventsOf(orderId)));
    expect(await netEffect(orderId)).toEqual(inOrder);
  });

  it("a cancellation that overtakes its order's placement waits for the saga, then cancels it", async () => {
    const orderId = randomUUID();
    const e = eventsOf(orderId);
    await injectWithPika([event(OrderCancellationRequested, orderId, { orderId }), e.placed]);
    await stateOf(orderId, 'ReleasingStock');
    await injectWithPika([e.released]);
    await stateOf(orderId, 'VoidingPayment');
    await injectWithPika([e.voided]);
    const effect = await netEffect(orderId);
    expect(effect).toMatchObject({
      state: 'Final',
      commands: ['payment.authorize.v1', 'warehouse.reserve-stock.v1', 'warehouse.release-stock.v1', 'payment.void.v1'],
      statuses: ['CANCELLED'],
    });
  });

  // A no from one step undoes the other once, whether the other's yes came before it, after it, or twice.
  it.each([
    ['declined while the stock is reserved', (e: Events) => [e.reserved, e.declined, republished(e.declined)]],
    ['declined before the reservation answers', (e: Events) => [e.declined, e.reserved, republished(e.reserved)]],
  ])('%s: the stock is released, never the payment voided, and the order CANCELLED', async (_what, answers) => {
    const orderId = randomUUID();
    const e = eventsOf(orderId);
    await injectWithPika([e.placed, ...answers(e)]);
    await stateOf(orderId, 'ReleasingStockAfterDecline');
    await injectWithPika([e.released, redelivered(e.released)]);
    expect(await netEffect(orderId)).toEqual({
      state: 'Final',
      commands: ['payment.authorize.v1', 'warehouse.reserve-stock.v1', 'warehouse.release-stock.v1'],
      statuses: ['CANCELLED'],
      finalUnchanged: true,
    });
  });

  it.each([
    ['out of stock while the payment is authorised', (e: Events) => [e.authorized, e.unavailable]],
    [
      'out of stock before the authorisation answers',
      (e: Events) => [e.unavailable, republished(e.unavailable), e.authorized, republished(e.authorized)],
    ],
  ])('%s: the payment is voided, no stock released, and the order CANCELLED', async (_what, answers) => {
    const orderId = randomUUID();
    const e = eventsOf(orderId);
    await injectWithPika([e.placed, ...answers(e)]);
    await stateOf(orderId, 'VoidingPayment');
    await injectWithPika([e.voided]);
    expect(await netEffect(orderId)).toEqual({
      state: 'Final',
      commands: ['payment.authorize.v1', 'warehouse.reserve-stock.v1', 'payment.void.v1'],
      statuses: ['CANCELLED'],
      finalUnchanged: true,
    });
  });
});
