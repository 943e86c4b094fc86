// Saga deadlines against real PostgreSQL with a manual clock: an hour-long deadline is tested without waiting for it
// (time is moved, then due jobs are run). Entering a state schedules its deadline, leaving it cancels it, a retry
// counts on, the last firing gives up, a deadline fires once even when two runners race for it, and an operator's
// action is recorded with who and why.
import { randomUUID } from 'node:crypto';
import { AuthorizePayment, type DataOf, OrderPlaced, PaymentAuthorized } from '@orderflow/contracts';
import { CLAIM_ONLY, type IncomingMessage, Messaging } from '@orderflow/messaging';
import { CreateScheduledJobs1764100000000, JobRunner, JobStore, ManualClock } from '@orderflow/scheduling';
import { MessagingRig, orderPlacedData, RIG_SERVICE } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline } from '../definition/deadline.js';
import { OperatorResolve } from '../definition/operator-actions.js';
import { defineSaga } from '../definition/saga-definition.js';
import { SagaStore } from '../store/saga-store.js';
import { SagaHistoryDeadlinesAndOperators1764200000000 } from '../store/saga-history-kinds.migration.js';
import { CreateSagaTables1763910000000 } from '../store/saga-tables.migration.js';
import { SagaStateEnteredAt1764400000000 } from '../store/saga-state-entered.migration.js';
import { SagaHistoryStepRows1764500000000 } from '../store/saga-history-steps.migration.js';
import { SagaCompositeArrivals1765200000000 } from '../store/saga-arrivals.migration.js';
import { registerSagaDeadlines } from './saga-deadlines.js';
import { SAGA_DEADLINE_TOPIC, SagaActionNotAllowed, SagaEngine } from './saga-engine.js';

const HOUR = 3_600_000;
let rig: MessagingRig;
let messaging: Messaging;

beforeAll(async () => {
  rig = await MessagingRig.create([
    CreateSagaTables1763910000000,
    CreateScheduledJobs1764100000000,
    SagaHistoryDeadlinesAndOperators1764200000000,
    SagaStateEnteredAt1764400000000,
    SagaHistoryStepRows1764500000000,
    SagaCompositeArrivals1765200000000,
  ]);
  messaging = new Messaging(rig.dataSource, CLAIM_ONLY, RIG_SERVICE, new Set([AuthorizePayment.type]));
});
afterAll(async () => {
  await rig.dispose();
});

const paymentDeadline = deadline('payment', { after: HOUR, retries: 2 });
const authorize = (_: unknown, m: IncomingMessage) =>
  AuthorizePayment.of({ orderId: m.subject, amount: 100, currency: 'EUR', paymentToken: 'tok' });

const saga = defineSaga<Record<string, never>>('deadline-it', ({ when }) => ({
  states: ['AwaitingPayment', 'Parked'],
  initially: [when(OrderPlaced).send(authorize).transitionTo('AwaitingPayment')],
  during: {
    AwaitingPayment: [
      when(PaymentAuthorized).finalize(),
      when(paymentDeadline.retry).send(authorize).transitionTo('AwaitingPayment'),
      when(paymentDeadline.expired).transitionTo('Parked'),
    ],
    Parked: [when(OperatorResolve).finalize()],
  },
  deadlines: { AwaitingPayment: paymentDeadline },
}));

function message<M extends typeof OrderPlaced | typeof PaymentAuthorized>(type: M, orderId: string, data: DataOf<M>) {
  return {
    id: randomUUID(),
    type: type.type,
    subject: orderId,
    data,
    source: '/orderflow/test',
    time: new Date().toISOString(),
    correlationId: orderId,
    attempt: 1,
    lastAttempt: false,
    queue: 'saga.events',
  };
}
const placed = (orderId: string) => message(OrderPlaced, orderId, orderPlacedData(orderId, 100));

/** Each test its own clock, so it must not meet another test's deadlines, which would be due by its clock too. */
async function setUp() {
  await rig.dataSource.query(`DELETE FROM scheduled_jobs WHERE topic = $1`, [SAGA_DEADLINE_TOPIC]);
  const clock = new ManualClock(new Date('2026-11-23T12:00:00Z'));
  const jobs = new JobStore(clock);
  const engine = new SagaEngine(saga, undefined, { jobs, clock });
  const runner = () => {
    const r = new JobRunner(rig.dataSource, jobs, clock, { warn: () => undefined, error: () => undefined });
    registerSagaDeadlines(r, messaging, [engine as SagaEngine<unknown>]);
    return r;
  };
  return { clock, jobs, engine, runner };
}

const store = () => new SagaStore(rig.dataSource);
const handle = (engine: SagaEngine<unknown>, m: IncomingMessage) =>
  messaging.transaction((uow) => engine.handle(m, uow));
const history = async (orderId: string) => (await store().find(saga.type, orderId))!.history;
const commandsSent = async (orderId: string) =>
  (await history(orderId)).filter((h) => h.kind === 'command' && h.messageType === AuthorizePayment.type).length;

describe('a state deadline', () => {
  it('is scheduled on entering the state and fires only when due, retrying the step, then giving up', async () => {
    const { clock, jobs, engine, runner } = await setUp();
    const orderId = randomUUID();
    await handle(engine as SagaEngine<unknown>, placed(orderId));
    const key = `${saga.type}:${orderId}:payment`;
    expect(await jobs.dueAt(rig.dataSource, SAGA_DEADLINE_TOPIC, key)).toEqual(new Date(clock.now().getTime() + HOUR));

    const r = runner();
    clock.advance(HOUR - 1);
    await r.drain(SAGA_DEADLINE_TOPIC);
    expect(await commandsSent(orderId)).toBe(1);

    for (const sent of [2, 3]) {
      clock.advance(HOUR);
      expect(await r.drain(SAGA_DEADLINE_TOPIC)).toBe(1);
      expect(await commandsSent(orderId)).toBe(sent);
      expect((await store().find(saga.type, orderId))!.state).toBe('AwaitingPayment');
    }
    clock.advance(HOUR);
    expect(await r.drain(SAGA_DEADLINE_TOPIC)).toBe(1);
    const view = (await store().find(saga.type, orderId))!;
    expect(view.state).toBe('Parked');
    expect(view.history.filter((h) => h.kind === 'event').map((h) => h.messageType)).toEqual([
      OrderPlaced.type,
      paymentDeadline.retry.type,
      paymentDeadline.retry.type,
      paymentDeadline.expired.type,
    ]);
    expect(
      view.history.filter((h) => h.kind === 'deadline' && h.detail.action === 'scheduled').map((h) => h.detail.attempt),
    ).toEqual([1, 2, 3]);
    // Parked has no deadline: nothing is left to fire.
    clock.advance(10 * HOUR);
    expect(await r.drain(SAGA_DEADLINE_TOPIC)).toBe(0);
  });

  it('is cancelled when the state moves on, and never fires', async () => {
    const { clock, jobs, engine, runner } = await setUp();
    const orderId = randomUUID();
    await handle(engine as SagaEngine<unknown>, placed(orderId));
    await handle(
      engine as SagaEngine<unknown>,
      message(PaymentAuthorized, orderId, { orderId, paymentId: randomUUID(), amount: 100, currency: 'EUR' }),
    );
    expect(await jobs.dueAt(rig.dataSource, SAGA_DEADLINE_TOPIC, `${saga.type}:${orderId}:payment`)).toBeUndefined();
    clock.advance(5 * HOUR);
    expect(await runner().drain(SAGA_DEADLINE_TOPIC)).toBe(0);
    const h = await history(orderId);
    expect(h.some((e) => e.kind === 'deadline' && e.detail.action === 'cancelled')).toBe(true);
    expect((await store().find(saga.type, orderId))!.state).toBe('Final');
  });

  it('fires once when two replicas race for it', async () => {
    const { clock, engine, runner } = await setUp();
    const orders = Array.from({ length: 20 }, () => randomUUID());
    for (const orderId of orders) await handle(engine as SagaEngine<unknown>, placed(orderId));
    clock.advance(HOUR);
    const [a, b] = [runner(), runner()];
    const fired = await Promise.all([a.drain(SAGA_DEADLINE_TOPIC), b.drain(SAGA_DEADLINE_TOPIC)]);
    expect(fired[0] + fired[1]).toBe(orders.length);
    for (const orderId of orders) expect(await commandsSent(orderId)).toBe(2);
  });
});

describe("an operator's action", () => {
  it('is taken only where the state has a row for it, and recorded with who and why', async () => {
    const { clock, engine, runner } = await setUp();
    const orderId = randomUUID();
    await handle(engine as SagaEngine<unknown>, placed(orderId));
    const act = () =>
      messaging.transaction((uow) =>
        engine.operatorAction(orderId, 'resolve', { operator: 'op-1234', note: 'settled by phone' }, uow),
      );
    await expect(act()).rejects.toBeInstanceOf(SagaActionNotAllowed);

    const r = runner();
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      await r.drain(SAGA_DEADLINE_TOPIC);
    }
    expect((await store().find(saga.type, orderId))!.state).toBe('Parked');
    await act();
    const view = (await store().find(saga.type, orderId))!;
    expect(view.state).toBe('Final');
    expect(view.history.find((h) => h.kind === 'operator')).toMatchObject({
      messageType: OperatorResolve.type,
      fromState: 'Parked',
      detail: { action: 'resolve', operator: 'op-1234', note: 'settled by phone' },
    });
  });
});
