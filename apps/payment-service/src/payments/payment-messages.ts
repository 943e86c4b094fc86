import {
  type OutgoingMessage,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
} from '@orderflow/contracts';
import type { UnitOfWork } from '@orderflow/messaging';
import type { Payment, PaymentEvent } from './payment.js';

/** The contract message that tells the saga about each event, about the payment's order. */
export function messageFor(payment: Payment, event: PaymentEvent): OutgoingMessage {
  const { id: paymentId, orderId, amount, currency } = payment.snapshot;
  switch (event.type) {
    case 'authorized':
      return PaymentAuthorized.of({ orderId, paymentId, amount, currency });
    case 'declined':
      return PaymentDeclined.of({ orderId, code: event.code, reason: event.reason });
    case 'captured':
      return PaymentCaptured.of({ orderId, paymentId, amount, currency });
    case 'voided':
      return PaymentVoided.of({ orderId, paymentId });
    case 'refunded':
      return PaymentRefunded.of({ orderId, paymentId, amount: event.amount });
  }
}

export function publishEvents(uow: UnitOfWork, payment: Payment, events: readonly PaymentEvent[]): void {
  for (const event of events) uow.publish(messageFor(payment, event));
}
