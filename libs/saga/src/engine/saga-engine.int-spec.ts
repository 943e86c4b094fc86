// The saga engine against real PostgreSQL: what one message does to an instance, its history and the outbox, all in
// the caller's transaction; what two concurrent decisions on one version do; and a saga driven end to end by the
// messaging core's own relay and consumer, with a conflict injected on the way.
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
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReserved,
} from '@orderflow/contracts';
import { appendToOutbox, type IncomingMessage, UnitOfWork } from '@orderflow/messaging';
import {
  incomingMessage,
  MessagingRig,
  orderPlacedData,
  produceOrders,
  RIG_SERVICE,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaContext } from '../definition/saga-context.js';
import { composite } from '../definition/composite.js';
import { defineSaga } from '../definition/saga-definition.js';
import { SagaConcurrencyConflict, SagaStore } from '../store/saga-store.js';
import { CreateSagaTables1763910000000 } from '../store/saga-tables.migration.js';
import { SagaStateEnteredAt1764400000000 } from '../store/saga-state-entered.migration.js';
import { SagaHistoryStepRows1764500000000 } from '../store/saga-history-steps.migration.js';
import { SagaCompositeArrivals1765200000000 } from '../store/saga-arrivals.migration.js';
import { SagaEngine } from './saga-engine.js';

let rig: MessagingRig;
let store: SagaStore;
beforeAll(async () => {
  rig = await MessagingRig.create([
    CreateSagaTables1763910000000,
    SagaStateEnteredAt1764400000000,
    SagaHistoryStepRows1764500000000,
    SagaCompositeArrivals1765200000000,
  ]);
  store = new SagaStore(rig.dataSource);
});
afterAll(async () => {
  await rig.dispose();
});

// Activities wait here when a test needs two transactions to have loaded the instance before either saves.
let hold: () => Promise<void> = () => Promise.resolve();

interface OrderData {
  amount?: number;
  paymentId?: string;
  notes: string[];
}

async function rememberOrder(ctx: SagaContext<OrderData, DataOf<typeof OrderPlaced>>) {
  await hold();
  ctx.data.amount = ctx.message.data.totalAmount;
}
async function recordPayment(ctx: SagaContext<OrderData, DataOf<typeof PaymentAuthorized>>) {
  await hold();
  ctx.data.paymentId = ctx.message.data.paymentId;
}
async function noteCancellation(ctx: SagaContext<OrderData>) {
  await hold();
  ctx.data.notes.push('cancellation requested');
}
const authorizePayment = (data: OrderData, m: IncomingMessage<DataOf<typeof OrderPlaced>>) =>
  AuthorizePayment.of({ orderId: m.subject, amount: data.amount!, currency: 'EUR', paymentToken: m.data.paymentToken });
const reserveStock = (_: OrderData, m: IncomingMessage) =>
  ReserveStock.of({ orderId: m.subject, items: [{ sku: 'SKU-1', quantity: 1 }] });
const announce = (status: 'CONFIRMED' | 'CANCELLED') =>
  function announceStatus(_: OrderData, m: IncomingMessage) {
    return OrderStatusChanged.of({ orderId: m.subject, status });
  };

const engine = new SagaEngine(
  defineSaga<OrderData>('order-it', ({ when }) => ({
    states: ['AwaitingPayment', 'ReservingStock'],
    initialData: () => ({ notes: [] }),
    initially: [when(OrderPlaced).then(rememberOrder).send(authorizePayment).transitionTo('AwaitingPayment')],
    during: {
      AwaitingPayment: [
        when(PaymentAuthorized).then(recordPayment).send(reserveStock).transitionTo('ReservingStock'),
        when(PaymentDeclined).publish(announce('CANCELLED')).finalize(),
      ],
      ReservingStock: [when(StockReserved).publish(announce('CONFIRMED')).finalize()],
    },
    duringAny: [when(OrderCancellationRequested).then(noteCancellation)],
  })),
);
const PUBLISHABLE = new Set([AuthorizePayment, ReserveStock, ReleaseStock, OrderStatusChanged].map((t) => t.type));

// Authorises and reserves at once; confirms once both answered, releases the stock if the payment is declined.
const paidAndReserved = composite('paid-and-reserved-it', [PaymentAuthorized, StockReserved]);
const joint = new SagaEngine(
  defineSaga<OrderData>('joint-it', ({ when }) => ({
    states: ['Preparing', 'Confirmed', 'Releasing'],
    initialData: () => ({ notes: [] }),
    initially: [
      when(OrderPlaced).then(rememberOrder).send(authorizePayment).send(reserveStock).transitionTo('Preparing'),
    ],
    during: {
      Preparing: [
        when(paidAndReserved.completed).publish(announce('CONFIRMED')).transitionTo('Confirmed'),
        // Each answer's own row waits at the barrier, so that a test can have both load the same version.
        when(PaymentAuthorized).then(recordPayment),
        when(StockReserved).then(async (ctx) => {
          await hold();
          ctx.data.notes.push('reserved');
        }),
        when(PaymentDeclined)
          .then(async () => hold())
          .send((_, m) => ReleaseStock.of({ orderId: m.subject, reason: 'PAYMENT_DECLINED' }))
          .transitionTo('Releasing'),
      ],
      Confirmed: [when(OrderCancellationRequested).finalize()],
      Releasing: [when(StockReserved).publish(announce('CANCELLED')).finalize()],
    },
  })),
);

const incoming = <M extends MessageType>(type: M, orderId: string, data: DataOf<M>) =>
  incomingMessage(type, orderId, data);
const placed = (orderId: string) => incoming(OrderPlaced, orderId, orderPlacedData(orderId));
const authorized = (orderId: string) =>
  incoming(PaymentAuthorized, orderId, { orderId, paymentId: randomUUID(), amount: 4990, currency: 'EUR' });
const cancellation = (orderId: string) => incoming(OrderCancellationRequested, orderId, { orderId });

/** A transaction as the consumer runs one: the unit of work's outbox rows are written just before the commit. */
async function begin() {
  const runner = rig.dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  const uow = new UnitOfWork(runner.manager, { service: RIG_SERVICE, correlationId: randomUUID() }, PUBLISHABLE);
  return {
    uow,
    async commit() {
      await appendToOutbox((sql, params) => runner.query(sql, params), uow.takeOutboxRows());
      await runner.commitTransaction();
      await runner.release();
    },
    async rollback() {
      await runner.rollbackTransaction();
      await runner.release();
    },
  };
}

async function handleAndCommit(message: IncomingMessage, on: SagaEngine<OrderData> = engine) {
  const tx = await begin();
  try {
    const outcome = await on.handle(message, tx.uow);
    await tx.commit();
    return outcome;
  } catch (err) {
    await tx.rollback();
    throw err;
  }
}

/** Resolves once `parties` callers wait in `arrive`, which returns when `release` is called. */
function barrier(parties: number) {
  let arrived = 0;
  let allArrived!: () => void;
  let release!: () => void;
  const everyone = new Promise<void>((resolve) => (allArrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    everyone,
    release,
    arrive: async () => {
      arrived += 1;
      if (arrived === parties) allArrived();
      await released;
    },
  };
}

const outboxOf = (orderId: string) =>
  rig.dataSource.query<{ routing_key: string }[]>(
    'SELECT routing_key FROM outbox_messages WHERE ordering_key = $1 ORDER BY id',
    [orderId],
  );

describe('one message in one transaction', () => {
  it('creates, moves and completes an instance, its history and its outgoing messages together', async () => {
    const orderId = randomUUID();
    const first = placed(orderId);
    expect(await handleAndCommit(first)).toEqual({
      decision: 'applied',
      correlationId: orderId,
      from: 'Initial',
      to: 'AwaitingPayment',
      version: 1,
    });
    const created = await store.find('order-it', orderId);
    expect(created).toMatchObject({ state: 'AwaitingPayment', version: 1, data: { amount: 4990, notes: [] } });
    expect(created?.completedAt).toBeNull();
    expect(created?.history.map((h) => [h.kind, h.messageType, h.messageId, h.fromState, h.toState])).toEqual([
      ['event', 'order.placed.v1', first.id, 'Initial', 'AwaitingPayment'],
      ['command', 'payment.authorize.v1', undefined, undefined, undefined],
      ['transition', 'order.placed.v1', first.id, 'Initial', 'AwaitingPayment'],
    ]);
    expect(await outboxOf(orderId)).toEqual([{ routing_key: 'payment.authorize.v1' }]);

    const payment = authorized(orderId);
    expect(await handleAndCommit(payment)).toMatchObject({ to: 'ReservingStock', version: 2 });
    expect(await handleAndCommit(incoming(StockReserved, orderId, { orderId }))).toMatchObject({
      from: 'ReservingStock',
      to: 'Final',
      version: 3,
    });

    const done = await store.find('order-it', orderId);
    expect(done).toMatchObject({
      state: 'Final',
      version: 3,
      data: { amount: 4990, paymentId: payment.data.paymentId, notes: [] },
    });
    expect(done?.completedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/));
    expect(done?.history.map((h) => h.kind)).toEqual([
      ...['event', 'command', 'transition'],
      ...['event', 'command', 'transition'],
      ...['event', 'published', 'transition'],
    ]);
    expect(await outboxOf(orderId)).toEqual([
      { routing_key: 'payment.authorize.v1' },
      { routing_key: 'warehouse.reserve-stock.v1' },
      { routing_key: 'fulfilment.order-status-changed.v1' },
    ]);
  });

  it('leaves no instance, history or outgoing message when the transaction rolls back', async () => {
    const orderId = randomUUID();
    const tx = await begin();
    await engine.handle(placed(orderId), tx.uow);
    await tx.uow.manager.query('SELECT 1'); // still the open transaction
    await tx.rollback();
    expect(await store.find('order-it', orderId)).toBeUndefined();
    expect(await rig.count(`SELECT count(*) AS n FROM saga_history WHERE correlation_id = '${orderId}'`)).toBe(0);
    expect(await outboxOf(orderId)).toEqual([]);
  });

  it('records an event that has no row, keeping the instance and its version', async () => {
    const orderId = randomUUID();
    await handleAndCommit(placed(orderId));
    const late = incoming(StockReserved, orderId, { orderId });
    expect(await handleAndCommit(late)).toMatchObject({ decision: 'unexpected', to: 'AwaitingPayment', version: 1 });
    const view = await store.find('order-it', orderId);
    expect(view).toMatchObject({ state: 'AwaitingPayment', version: 1 });
    expect(view?.history.at(-1)).toMatchObject({
      kind: 'unexpected',
      messageId: late.id,
      fromState: 'AwaitingPayment',
      detail: { reason: 'no row for it in AwaitingPayment', data: { orderId } },
    });
  });
});

describe('two transactions deciding on the same version', () => {
  it('commit exactly one update; the other conflicts, and redone it applies on top of the winner', async () => {
    const orderId = randomUUID();
    await handleAndCommit(placed(orderId));
    const payment = authorized(orderId);
    const cancel = cancellation(orderId);

    const gate = barrier(2);
    hold = gate.arrive;
    const a = await begin();
    const b = await begin();
    const decisions = {
      payment: engine.handle(payment, a.uow).then(() => a),
      cancel: engine.handle(cancel, b.uow).then(() => b),
    };
    try {
      await gate.everyone; // both loaded version 1
    } finally {
      hold = () => Promise.resolve();
      gate.release();
    }
    // The first to update holds the row lock; the other's update waits for it to commit.
    const winner = await Promise.race([
      decisions.payment.then(() => 'payment' as const),
      decisions.cancel.then(() => 'cancel' as const),
    ]);
    const loser = winner === 'payment' ? 'cancel' : 'payment';
    await (winner === 'payment' ? a : b).commit();
    const failure = await decisions[loser].catch((err: unknown) => err);
    await (winner === 'payment' ? b : a).rollback();

    expect(failure).toBeInstanceOf(SagaConcurrencyConflict);
    expect(failure).toMatchObject({ sagaType: 'order-it', correlationId: orderId, expectedVersion: 1 });
    const afterRace = await store.find('order-it', orderId);
    expect(afterRace?.version).toBe(2);
    const winnerMessage = winner === 'payment' ? payment : cancel;
    const loserMessage = winner === 'payment' ? cancel : payment;
    const eventIds = (afterRace?.history ?? []).filter((h) => h.kind === 'event').map((h) => h.messageId);
    expect(eventIds).toContain(winnerMessage.id);
    expect(eventIds).not.toContain(loserMessage.id);

    // What the consumer's retry path does with the loser: the same message, a fresh transaction, the new version.
    expect(await handleAndCommit(loserMessage)).toMatchObject({ decision: 'applied', version: 3 });
    expect(await store.find('order-it', orderId)).toMatchObject({
      state: 'ReservingStock',
      version: 3,
      data: { amount: 4990, paymentId: payment.data.paymentId, notes: ['cancellation requested'] },
    });
  });

  it('create exactly one instance; the other creation conflicts', async () => {
    const orderId = randomUUID();
    const gate = barrier(2);
    hold = gate.arrive;
    const a = await begin();
    const b = await begin();
    const [first, second] = [placed(orderId), placed(orderId)];
    const decisions = [engine.handle(first, a.uow).then(() => a), engine.handle(second, b.uow).then(() => b)];
    try {
      await gate.everyone; // neither found an instance
    } finally {
      hold = () => Promise.resolve();
      gate.release();
    }
    const winner = await Promise.race(decisions);
    const loser = winner === a ? b : a;
    await winner.commit();
    const failure = await decisions[winner === a ? 1 : 0].catch((err: unknown) => err);
    await loser.rollback();

    expect(failure).toBeInstanceOf(SagaConcurrencyConflict);
    expect(failure).toMatchObject({ expectedVersion: null });
    expect(await store.find('order-it', orderId)).toMatchObject({ state: 'AwaitingPayment', version: 1 });
    expect(await outboxOf(orderId)).toEqual([{ routing_key: 'payment.authorize.v1' }]);
  });
});

describe('a composite event answered on two consumers at once', () => {
  /** Handles both messages in two transactions that each load the same version; returns what the loser threw. */
  async function race(first: IncomingMessage, second: IncomingMessage) {
    const gate = barrier(2);
    hold = gate.arrive;
    const a = await begin();
    const b = await begin();
    const decisions = [joint.handle(first, a.uow).then(() => a), joint.handle(second, b.uow).then(() => b)];
    try {
      await gate.everyone;
    } finally {
      hold = () => Promise.resolve();
      gate.release();
    }
    const winner = await Promise.race(decisions);
    await winner.commit();
    const loserIndex = winner === a ? 1 : 0;
    const failure = await decisions[loserIndex].catch((err: unknown) => err);
    await (winner === a ? b : a).rollback();
    return { failure, loser: loserIndex === 0 ? first : second };
  }
  const declined = (orderId: string) =>
    incoming(PaymentDeclined, orderId, { orderId, code: 'DECLINED', reason: 'insufficient funds' });

  it.each(['payment', 'stock'] as const)(
    'fires exactly once: one answer commits, the other conflicts and, redone, completes it (%s handled first)',
    async (firstHandled) => {
      const orderId = randomUUID();
      await handleAndCommit(placed(orderId), joint);
      const payment = authorized(orderId);
      const stock = incoming(StockReserved, orderId, { orderId });
      const [first, second] = firstHandled === 'payment' ? [payment, stock] : [stock, payment];

      const { failure, loser } = await race(first, second);
      expect(failure).toBeInstanceOf(SagaConcurrencyConflict);
      expect(await store.find('joint-it', orderId)).toMatchObject({ state: 'Preparing', version: 2 });

      // The consumer's retry path: the same message on the winner's version completes the composite.
      expect(await handleAndCommit(loser, joint)).toMatchObject({ to: 'Confirmed', version: 3 });
      // A duplicate of either answer now finds the saga moved on: recorded, nothing sent again.
      await handleAndCommit(incoming(PaymentAuthorized, orderId, payment.data), joint);
      await handleAndCommit(incoming(StockReserved, orderId, { orderId }), joint);

      const view = await store.find('joint-it', orderId);
      expect(view).toMatchObject({
        state: 'Confirmed',
        version: 3,
        data: { paymentId: payment.data.paymentId, notes: ['reserved'] },
      });
      const composites = view!.history.filter((h) => h.messageType === paidAndReserved.completed.type);
      expect(composites.map((h) => [h.kind, h.messageId])).toEqual([
        ['event', loser.id],
        ['transition', loser.id],
      ]);
      expect(await outboxOf(orderId)).toEqual([
        { routing_key: 'payment.authorize.v1' },
        { routing_key: 'warehouse.reserve-stock.v1' },
        { routing_key: 'fulfilment.order-status-changed.v1' },
      ]);
      const { arrived } = (
        await rig.dataSource.query<{ arrived: string[] }[]>(
          `SELECT arrived FROM saga_instances WHERE saga_type = 'joint-it' AND correlation_id = $1`,
          [orderId],
        )
      )[0];
      expect(arrived).toEqual([]);
    },
  );

  it('undoes the reservation once when a decline and the reservation cross, whichever commits first', async () => {
    for (const firstHandled of ['decline', 'stock'] as const) {
      const orderId = randomUUID();
      await handleAndCommit(placed(orderId), joint);
      const decline = declined(orderId);
      const stock = incoming(StockReserved, orderId, { orderId });
      const { failure, loser } = firstHandled === 'decline' ? await race(decline, stock) : await race(stock, decline);
      expect(failure).toBeInstanceOf(SagaConcurrencyConflict);
      await handleAndCommit(loser, joint);

      // The decline committed first: the reservation, redone, finds the saga releasing and finishes it. The
      // reservation first: the decline, redone, finds it arrived and releases it.
      const settled = loser.type === StockReserved.type ? 'Final' : 'Releasing';
      expect((await store.find('joint-it', orderId))?.state).toBe(settled);
      const sent = (await outboxOf(orderId)).map((r) => r.routing_key);
      expect(sent.filter((k) => k === 'warehouse.release-stock.v1')).toHaveLength(1);
      expect(sent).not.toContain('payment.capture.v1');
    }
  });
});

describe('a saga driven by the messaging core', () => {
  it('completes every instance exactly once, a conflicting update retried rather than lost', async () => {
    // Reserved → publish StockReleased → the rig's queue brings it back → Final. The rig publishes and consumes
    // only these two event types, so the saga talks to itself through the real outbox, relay, broker and inbox.
    const interfered = new Set<string>();
    const reservation = new SagaEngine(
      defineSaga<{ reservedBy?: string; releasedBy?: string; touchedByOther?: boolean }>(
        'reservation-it',
        ({ when }) => ({
          states: ['Reserved'],
          initially: [
            when(StockReserved)
              .then((ctx) => void (ctx.data.reservedBy = ctx.message.id))
              .publish((_, m) => StockReleased.of({ orderId: m.subject }))
              .transitionTo('Reserved'),
          ],
          during: {
            Reserved: [
              when(StockReleased)
                .then(async (ctx) => {
                  if (interfered.has(ctx.correlationId)) return;
                  interfered.add(ctx.correlationId);
                  // Another writer commits between this transaction's load and its save.
                  await rig.dataSource.query(
                    `UPDATE saga_instances SET version = version + 1, data = data || '{"touchedByOther": true}'
                      WHERE saga_type = 'reservation-it' AND correlation_id = $1`,
                    [ctx.correlationId],
                  );
                })
                .then((ctx) => void (ctx.data.releasedBy = ctx.message.id))
                .finalize(),
            ],
          },
        }),
      ),
    );
    const relay = await rig.relay();
    await rig.consumer({ handler: (message, uow) => reservation.handle(message, uow).then(() => undefined) }, () =>
      relay.wake(),
    );
    const orderIds = await produceOrders(rig.messaging(relay), 20, [StockReserved]);

    await waitFor(
      async () =>
        (await rig.count(
          `SELECT count(*) AS n FROM saga_instances WHERE saga_type = 'reservation-it' AND state = 'Final'`,
        )) === orderIds.length,
      { timeoutMs: 30_000, what: 'every reservation saga to complete' },
    );
    for (const orderId of orderIds) {
      const view = await store.find('reservation-it', orderId);
      // Version 3: created, changed by the other writer, then completed on top of that change.
      expect(view).toMatchObject({ state: 'Final', version: 3, data: { touchedByOther: true } });
      expect(view?.history.map((h) => [h.kind, h.messageType])).toEqual([
        ['event', 'warehouse.stock-reserved.v1'],
        ['published', 'warehouse.stock-released.v1'],
        ['transition', 'warehouse.stock-reserved.v1'],
        ['event', 'warehouse.stock-released.v1'],
        ['transition', 'warehouse.stock-released.v1'],
      ]);
      const [reserved, released] = view!.history.filter((h) => h.kind === 'event');
      expect(view?.data).toMatchObject({ reservedBy: reserved.messageId, releasedBy: released.messageId });
    }
    expect(interfered.size).toBe(orderIds.length);
    expect(
      await rig.count(`SELECT count(*) AS n FROM inbox_messages WHERE message_type = 'warehouse.stock-released.v1'`),
    ).toBe(orderIds.length);
  });
});
