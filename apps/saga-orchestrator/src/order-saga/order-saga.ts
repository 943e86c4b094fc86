/**
 * The order saga: how one order moves through payment, stock and shipment, and how each failure is undone.
 * Read it as a table — a state, the event that arrives, what the saga does, where the order goes. docs/saga.md
 * draws it from this definition (npm run generate), so the diagram is always what runs.
 *
 * The payment is authorised and the stock reserved at once, and money is captured only once both have said yes (a
 * composite event); the order is CONFIRMED only once money is captured, so a CONFIRMED order is one the suite has
 * been paid for and can serve. Every way out of the happy path ends CANCELLED with money and stock as they were: an
 * authorisation is voided, a capture refunded, a reservation released — the one of the two parallel steps that
 * failed is not undone, the other is, whichever answered first.
 */
import {
  AuthorizePayment,
  CapturePayment,
  CreateShipment,
  type DataOf,
  type OutgoingMessage,
  OrderCancellationRequested,
  OrderPlaced,
  OrderStatusChanged,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
  PickStock,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
  ShipmentCreated,
  ShipmentDelivered,
  ShipmentDeliveryUnreported,
  ShipmentRejected,
  StockPicked,
  StockReleased,
  StockReserved,
  StockUnavailable,
  VoidPayment,
  type CancellationReason,
} from '@orderflow/contracts';
import type { IncomingMessage } from '@orderflow/messaging';
import {
  composite,
  deadline,
  defineSaga,
  request,
  OperatorCompensate,
  OperatorResolve,
  OperatorRetry,
  type SagaContext,
} from '@orderflow/saga';

export interface OrderSagaData {
  items: { sku: string; quantity: number }[];
  totalAmount: number;
  currency: string;
  shippingAddress: DataOf<typeof OrderPlaced>['shippingAddress'];
  /** Why the order is being cancelled, once it is. */
  reason?: CancellationReason;
  /** Why the saga stopped and waits for an operator, and where, while it does. */
  attention?: { reason: string; state: OrderSagaState; at: string };
  /** The state the saga last parked from: where an operator's retry takes it back to. */
  parkedIn?: OrderSagaState;
}

/** The saga's states, once: the table declares them from this list and the type is read from it. */
export const ORDER_SAGA_STATES = [
  'AuthorizingAndReserving',
  'CapturingPayment',
  'BookingShipment',
  'Picking',
  'DeliveredBeforeBooking',
  'DeliveredBeforePicking',
  'AwaitingDelivery',
  'ReleasingStock',
  'VoidingPayment',
  'ReleasingStockAfterDecline',
  'CancellingAfterCapture',
  'ReleasingStockForRefund',
  'RefundingPayment',
  'NeedsAttention',
  'ShipmentNeedsAttention',
  // Retired (ADR 0022): where the sequential saga waited for the payment, then the stock.
  'AwaitingPayment',
  'ReservingStock',
] as const;
export type OrderSagaState = (typeof ORDER_SAGA_STATES)[number];

// ---- activities: what the saga remembers -------------------------------------------------------------------

function rememberOrder(ctx: SagaContext<OrderSagaData, DataOf<typeof OrderPlaced>>) {
  const { items, totalAmount, currency, shippingAddress } = ctx.message.data;
  // The payment token is not kept: it goes to the payment service in the command below and nowhere else.
  ctx.data = { items: items.map(({ sku, quantity }) => ({ sku, quantity })), totalAmount, currency, shippingAddress };
}

const because = (reason: CancellationReason) =>
  function cancellationReason(ctx: SagaContext<OrderSagaData>) {
    ctx.data.reason = reason;
  };

function paymentFailure(ctx: SagaContext<OrderSagaData, DataOf<typeof PaymentDeclined>>) {
  ctx.data.reason = ctx.message.data.code === 'TIMED_OUT' ? 'TIMED_OUT' : 'PAYMENT_DECLINED';
}

function shipmentFailure(ctx: SagaContext<OrderSagaData, DataOf<typeof ShipmentRejected>>) {
  // A carrier that never answered within the step's attempts is a time-out; a refusal is a refusal.
  ctx.data.reason = ctx.message.data.code === 'CARRIER_ERROR' ? 'TIMED_OUT' : 'SHIPPING_UNAVAILABLE';
}

/** Stops the saga where it is until an operator resolves it; the order keeps its status meanwhile. */
const park = (reason: string) =>
  function needsAttention(ctx: SagaContext<OrderSagaData>) {
    ctx.data.attention = { reason, state: ctx.state as OrderSagaState, at: ctx.message.time };
    ctx.data.parkedIn = ctx.state as OrderSagaState;
  };

/** Parks with the reason the logistics service gives: how long it asked the carrier, and found nothing. */
function deliveryUnreported(ctx: SagaContext<OrderSagaData, DataOf<typeof ShipmentDeliveryUnreported>>) {
  park(`the carrier never reported the delivery: ${ctx.message.data.reason}`)(ctx);
}

/** Where an operator's retry sends a parked saga back to: the state it stopped in. */
const PARKED_BEFORE_SHIPPING = [
  'CapturingPayment',
  'CancellingAfterCapture',
  'ReleasingStock',
  'VoidingPayment',
  'ReleasingStockAfterDecline',
  'ReleasingStockForRefund',
  'RefundingPayment',
] as const;
const PARKED_WHILE_SHIPPING = [
  'Picking',
  'DeliveredBeforeBooking',
  'DeliveredBeforePicking',
  'AwaitingDelivery',
] as const;
// Any other answer (a saga parked before this field existed) is refused by the engine, not guessed.
const parkedIn = <T extends OrderSagaState>(d: OrderSagaData) => d.parkedIn as T;

/** Sends again the command of the step the saga stopped in (a delivery has none: waiting again is all it takes). */
function resumeParkedStep(ctx: SagaContext<OrderSagaData>) {
  const resend: Partial<Record<OrderSagaState, (d: OrderSagaData, m: IncomingMessage) => OutgoingMessage>> = {
    CapturingPayment: capturePayment,
    CancellingAfterCapture: capturePayment,
    ReleasingStock: releaseStock,
    VoidingPayment: voidPayment,
    ReleasingStockAfterDecline: releaseStock,
    ReleasingStockForRefund: releaseStock,
    RefundingPayment: refundPayment,
    Picking: pickStock,
    DeliveredBeforePicking: pickStock,
  };
  const build = ctx.data.parkedIn && resend[ctx.data.parkedIn];
  if (build) ctx.send(build(ctx.data, ctx.message));
  ctx.data.attention = undefined;
}

/** An operator settled the order outside the saga (the history keeps who and why): nothing is waiting any more. */
function settledByHand(ctx: SagaContext<OrderSagaData>) {
  ctx.data.attention = undefined;
}

/** An operator forced the compensation; the contracts have no reason for that, so a stuck order counts as timed out. */
function operatorGaveUp(ctx: SagaContext<OrderSagaData>) {
  ctx.data.reason ??= 'TIMED_OUT';
  ctx.data.attention = undefined;
}

// ---- commands and events: what the saga says ---------------------------------------------------------------

const authorizePayment = (_: OrderSagaData, m: IncomingMessage<DataOf<typeof OrderPlaced>>) =>
  AuthorizePayment.of({
    orderId: m.subject,
    amount: m.data.totalAmount,
    currency: m.data.currency,
    paymentToken: m.data.paymentToken,
  });
const reserveStock = (d: OrderSagaData, m: IncomingMessage) => ReserveStock.of({ orderId: m.subject, items: d.items });
const capturePayment = (_: OrderSagaData, m: IncomingMessage) => CapturePayment.of({ orderId: m.subject });
const createShipment = (d: OrderSagaData, m: IncomingMessage) =>
  CreateShipment.of({ orderId: m.subject, address: d.shippingAddress, items: d.items });
const pickStock = (_: OrderSagaData, m: IncomingMessage) => PickStock.of({ orderId: m.subject });
const releaseStock = (d: OrderSagaData, m: IncomingMessage) =>
  ReleaseStock.of({ orderId: m.subject, reason: d.reason ?? 'CUSTOMER_CANCELLED' });
const voidPayment = (d: OrderSagaData, m: IncomingMessage) =>
  VoidPayment.of({ orderId: m.subject, reason: d.reason ?? 'CUSTOMER_CANCELLED' });
const refundPayment = (d: OrderSagaData, m: IncomingMessage) =>
  RefundPayment.of({ orderId: m.subject, reason: d.reason ?? 'CUSTOMER_CANCELLED' });

const orderConfirmed = (_: OrderSagaData, m: IncomingMessage) =>
  OrderStatusChanged.of({ orderId: m.subject, status: 'CONFIRMED' });
const orderShipped = (_: OrderSagaData, m: IncomingMessage) =>
  OrderStatusChanged.of({ orderId: m.subject, status: 'SHIPPED' });
const orderDelivered = (_: OrderSagaData, m: IncomingMessage) =>
  OrderStatusChanged.of({ orderId: m.subject, status: 'DELIVERED' });
const orderCancelled = (d: OrderSagaData, m: IncomingMessage) =>
  OrderStatusChanged.of({ orderId: m.subject, status: 'CANCELLED', statusReason: d.reason ?? 'CUSTOMER_CANCELLED' });

// ---- requests and deadlines: what each waiting state waits for, and how long (SAGA_DEADLINES overrides) -----

const MINUTE = 60_000;
/**
 * Before the money is taken, a step that does not answer is given up: the order is cancelled TIMED_OUT. The two run
 * at once, each with its own timeout, which its answer withdraws: a gateway allowed minutes to approve is not cut
 * short by the warehouse's shorter deadline once the warehouse has answered.
 */
export const authorization = request('payment', {
  send: authorizePayment,
  completed: PaymentAuthorized,
  faulted: PaymentDeclined,
  timeout: 5 * MINUTE,
});
export const reservation = request('stock', {
  send: reserveStock,
  completed: StockReserved,
  faulted: StockUnavailable,
  timeout: 2 * MINUTE,
});
export const booking = request('booking', {
  send: createShipment,
  completed: ShipmentCreated,
  faulted: ShipmentRejected,
  timeout: 10 * MINUTE,
});
/** Once the money is taken, the step is asked again, then an operator is called. */
export const capture = request('capture', {
  send: capturePayment,
  completed: PaymentCaptured,
  timeout: MINUTE,
  retries: 3,
});
export const picking = request('picking', {
  send: pickStock,
  completed: StockPicked,
  timeout: 30 * MINUTE,
  retries: 3,
});
/** Capture waits for both parallel steps' yes, in either order; a no from either ends the wait at once. */
export const paidAndReserved = composite('paid-and-reserved', [authorization.completed, reservation.completed]);
export const deliveryDeadline = deadline('delivery', { after: 14 * 24 * 60 * MINUTE });
/** Undoing is never given up: the compensating command is sent again, then an operator is called. */
export const compensationDeadline = deadline('compensation', { after: MINUTE, retries: 5 });

// ---- the table ------------------------------------------------------------------------------------------------

export const orderSaga = defineSaga<OrderSagaData, OrderSagaState>('order', ({ when, ignore }) => ({
  states: ORDER_SAGA_STATES,
  // Every orderflow message's subject is its order's id (the contracts say so); the saga's instance is the order's.
  correlateBy: (message) => message.subject,
  // The merchant's payment token rides on OrderPlaced and AuthorizePayment; operators see that it was there.
  redact: ['paymentToken'],
  initialData: () => ({
    items: [],
    totalAmount: 0,
    currency: 'XXX',
    shippingAddress: { name: '', line1: '', city: '', postalCode: '', country: 'ZZ' },
  }),

  initially: [
    when(OrderPlaced)
      .then(rememberOrder)
      .request(authorization)
      .request(reservation)
      .transitionTo('AuthorizingAndReserving'),
  ],

  during: {
    // ---- the way forward ----
    // Both steps run at once. A no from one undoes the other, whether its yes has come, is on its way, or never will:
    // the payment and warehouse services answer a void or release that overtakes its step, and refuse the step after.
    AuthorizingAndReserving: [
      when(OperatorCompensate).then(operatorGaveUp).send(releaseStock).transitionTo('ReleasingStock'),
      when(authorization.completed).unschedule(authorization.deadline),
      when(reservation.completed).unschedule(reservation.deadline),
      when(paidAndReserved.completed).request(capture).transitionTo('CapturingPayment'),
      // A declined payment holds nothing: only the stock is given back.
      when(PaymentDeclined).then(paymentFailure).send(releaseStock).transitionTo('ReleasingStockAfterDecline'),
      // Refused stock holds nothing: only the payment is released. A void settles it whatever the gateway says later.
      when(StockUnavailable).then(because('OUT_OF_STOCK')).send(voidPayment).transitionTo('VoidingPayment'),
      when(OrderCancellationRequested)
        .then(because('CUSTOMER_CANCELLED'))
        .send(releaseStock)
        .transitionTo('ReleasingStock'),
      when(authorization.timeoutExpired).then(because('TIMED_OUT')).send(releaseStock).transitionTo('ReleasingStock'),
      when(reservation.timeoutExpired).then(because('TIMED_OUT')).send(releaseStock).transitionTo('ReleasingStock'),
    ],
    CapturingPayment: [
      when(OperatorRetry).send(capturePayment).transitionTo('CapturingPayment'),
      when(OperatorCompensate).then(operatorGaveUp).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(capture.completed).publish(orderConfirmed).request(booking).transitionTo('BookingShipment'),
      when(OrderCancellationRequested).then(because('CUSTOMER_CANCELLED')).transitionTo('CancellingAfterCapture'),
      // A capture may have happened unreported: asking again is safe (the payment service captures once).
      when(capture.retry).request(capture).transitionTo('CapturingPayment'),
      when(capture.timeoutExpired).then(park('the payment was not captured')).transitionTo('NeedsAttention'),
    ],
    BookingShipment: [
      when(OperatorCompensate).then(operatorGaveUp).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(booking.completed).request(picking).transitionTo('Picking'),
      // Replicas publish independently: the carrier's delivery report can overtake the booking's confirmation.
      when(ShipmentDelivered).transitionTo('DeliveredBeforeBooking'),
      when(ShipmentRejected).then(shipmentFailure).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(OrderCancellationRequested)
        .then(because('CUSTOMER_CANCELLED'))
        .send(releaseStock)
        .transitionTo('ReleasingStockForRefund'),
      when(booking.timeoutExpired)
        .then(because('TIMED_OUT'))
        .send(releaseStock)
        .transitionTo('ReleasingStockForRefund'),
    ],
    Picking: [
      when(OperatorRetry).send(pickStock).transitionTo('Picking'),
      when(picking.completed).publish(orderShipped).transitionTo('AwaitingDelivery'),
      // A quick carrier (or a slow warehouse) reports the delivery first: remember it, finish when picking does.
      when(ShipmentDelivered).transitionTo('DeliveredBeforePicking'),
      when(picking.retry).request(picking).transitionTo('Picking'),
      when(picking.timeoutExpired).then(park('the stock was not picked')).transitionTo('ShipmentNeedsAttention'),
    ],
    DeliveredBeforeBooking: [
      when(ShipmentCreated).send(pickStock).transitionTo('DeliveredBeforePicking'),
      when(booking.timeoutExpired)
        .then(park('the carrier delivered a shipment it never confirmed'))
        .transitionTo('ShipmentNeedsAttention'),
    ],
    DeliveredBeforePicking: [
      when(StockPicked).publish(orderShipped).publish(orderDelivered).finalize(),
      when(picking.retry).send(pickStock).transitionTo('DeliveredBeforePicking'),
      when(picking.timeoutExpired).then(park('the stock was not picked')).transitionTo('ShipmentNeedsAttention'),
    ],
    AwaitingDelivery: [
      when(ShipmentDelivered).publish(orderDelivered).finalize(),
      // Logistics asked the carrier for its polling window (days) and heard nothing: no use waiting for the deadline.
      when(ShipmentDeliveryUnreported).then(deliveryUnreported).transitionTo('ShipmentNeedsAttention'),
      when(deliveryDeadline.expired)
        .then(park('the carrier never reported the delivery'))
        .transitionTo('ShipmentNeedsAttention'),
    ],

    // ---- undoing: before the capture, release stock then void; after it, release stock then refund ----
    ReleasingStock: [
      when(OperatorRetry).send(releaseStock).transitionTo('ReleasingStock'),
      when(StockReleased).send(voidPayment).transitionTo('VoidingPayment'),
      when(compensationDeadline.retry).send(releaseStock).transitionTo('ReleasingStock'),
      when(compensationDeadline.expired).then(park('the stock was not released')).transitionTo('NeedsAttention'),
      // Late answers to the parallel steps: the release in flight and the void after it settle either way.
      ignore(StockReserved),
      ignore(StockUnavailable),
      ignore(PaymentAuthorized),
      ignore(PaymentDeclined),
    ],
    VoidingPayment: [
      when(OperatorRetry).send(voidPayment).transitionTo('VoidingPayment'),
      when(PaymentVoided).publish(orderCancelled).finalize(),
      when(compensationDeadline.retry).send(voidPayment).transitionTo('VoidingPayment'),
      when(compensationDeadline.expired).then(park('the payment was not voided')).transitionTo('NeedsAttention'),
      // A late authorisation or decline: the void already sent settles the payment either way. A late answer to the
      // reservation (an answer overtaken by the release's) holds nothing: the release was answered first.
      ignore(PaymentAuthorized),
      ignore(PaymentDeclined),
      ignore(StockReserved),
      ignore(StockUnavailable),
    ],
    ReleasingStockAfterDecline: [
      when(OperatorRetry).send(releaseStock).transitionTo('ReleasingStockAfterDecline'),
      when(StockReleased).publish(orderCancelled).finalize(),
      when(compensationDeadline.retry).send(releaseStock).transitionTo('ReleasingStockAfterDecline'),
      when(compensationDeadline.expired).then(park('the stock was not released')).transitionTo('NeedsAttention'),
      // The reservation's own answer, before or after the release: the release settles the stock either way.
      ignore(StockReserved),
      ignore(StockUnavailable),
    ],
    CancellingAfterCapture: [
      when(OperatorRetry).send(capturePayment).transitionTo('CancellingAfterCapture'),
      when(PaymentCaptured).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(capture.retry).send(capturePayment).transitionTo('CancellingAfterCapture'),
      when(capture.timeoutExpired).then(park('the payment was not captured')).transitionTo('NeedsAttention'),
    ],
    ReleasingStockForRefund: [
      when(OperatorRetry).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(StockReleased).send(refundPayment).transitionTo('RefundingPayment'),
      when(compensationDeadline.retry).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(compensationDeadline.expired).then(park('the stock was not released')).transitionTo('NeedsAttention'),
      // The carrier's booking is not cancelled: the contracts have no such command yet (docs/saga.md).
      ignore(ShipmentCreated),
      ignore(ShipmentRejected),
    ],
    RefundingPayment: [
      when(OperatorRetry).send(refundPayment).transitionTo('RefundingPayment'),
      when(PaymentRefunded).publish(orderCancelled).finalize(),
      when(compensationDeadline.retry).send(refundPayment).transitionTo('RefundingPayment'),
      when(compensationDeadline.expired).then(park('the payment was not refunded')).transitionTo('NeedsAttention'),
    ],

    // ---- retired: the sequential steps of the version before ADR 0022, for the orders that were in them at its
    // deployment. Nothing enters them any more; remove them once `GET /sagas?state=…` finds none left. ----
    AwaitingPayment: [
      when(OperatorCompensate).then(operatorGaveUp).send(voidPayment).transitionTo('VoidingPayment'),
      when(authorization.completed).request(reservation).transitionTo('ReservingStock'),
      when(PaymentDeclined).then(paymentFailure).publish(orderCancelled).finalize(),
      when(OrderCancellationRequested)
        .then(because('CUSTOMER_CANCELLED'))
        .send(voidPayment)
        .transitionTo('VoidingPayment'),
      when(authorization.timeoutExpired).then(because('TIMED_OUT')).send(voidPayment).transitionTo('VoidingPayment'),
    ],
    ReservingStock: [
      when(OperatorCompensate).then(operatorGaveUp).send(releaseStock).transitionTo('ReleasingStock'),
      when(reservation.completed).request(capture).transitionTo('CapturingPayment'),
      when(StockUnavailable).then(because('OUT_OF_STOCK')).send(voidPayment).transitionTo('VoidingPayment'),
      when(OrderCancellationRequested)
        .then(because('CUSTOMER_CANCELLED'))
        .send(releaseStock)
        .transitionTo('ReleasingStock'),
      when(reservation.timeoutExpired).then(because('TIMED_OUT')).send(releaseStock).transitionTo('ReleasingStock'),
    ],

    // ---- parked: an operator has to look; the history says why ----
    // Money may have been taken: retrying the step, or undoing everything (release, then refund or void) are both safe.
    NeedsAttention: [
      when(OperatorRetry).then(resumeParkedStep).transitionToOneOf(PARKED_BEFORE_SHIPPING, parkedIn),
      when(OperatorCompensate).then(operatorGaveUp).send(releaseStock).transitionTo('ReleasingStockForRefund'),
      when(OperatorResolve).then(settledByHand).finalize(),
    ],
    // The goods are with the warehouse or the carrier: an operator retries, or settles it outside and resolves.
    ShipmentNeedsAttention: [
      when(OperatorRetry).then(resumeParkedStep).transitionToOneOf(PARKED_WHILE_SHIPPING, parkedIn),
      when(OperatorResolve).then(settledByHand).finalize(),
    ],
  },
  // AuthorizingAndReserving has two, set by the row that enters it (the requests of `initially`).
  deadlines: {
    AwaitingPayment: authorization.deadline,
    ReservingStock: reservation.deadline,
    CapturingPayment: capture.deadline,
    BookingShipment: booking.deadline,
    Picking: picking.deadline,
    DeliveredBeforeBooking: booking.deadline,
    DeliveredBeforePicking: picking.deadline,
    AwaitingDelivery: deliveryDeadline,
    ReleasingStock: compensationDeadline,
    VoidingPayment: compensationDeadline,
    ReleasingStockAfterDecline: compensationDeadline,
    CancellingAfterCapture: capture.deadline,
    ReleasingStockForRefund: compensationDeadline,
    RefundingPayment: compensationDeadline,
  },

  // Answers to commands the saga may send more than once (a retried capture, pick or compensation): expected noise
  // wherever no state's own row acts on them. Anything else a state does not expect is recorded for operators.
  duringAny: [
    ignore(OrderCancellationRequested),
    ignore(PaymentCaptured),
    ignore(StockPicked),
    ignore(StockReleased),
    ignore(PaymentVoided),
    ignore(PaymentRefunded),
  ],
  unexpected: { default: 'record' },
  retired: ['AwaitingPayment', 'ReservingStock'],
  // A cancellation can overtake the order's placement (two replicas of the relay): it waits for the saga to exist.
  missingInstance: { [OrderCancellationRequested.type]: 'park' },
  // The undoing half of the table; entering it is what orderflow_saga_compensations_total counts.
  compensating: [
    'ReleasingStock',
    'VoidingPayment',
    'ReleasingStockAfterDecline',
    'CancellingAfterCapture',
    'ReleasingStockForRefund',
    'RefundingPayment',
  ],
}));
