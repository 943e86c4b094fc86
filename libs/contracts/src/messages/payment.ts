import { z } from 'zod';
import { defineCommand, defineEvent } from '../message-type.js';
import { Amount, Currency, OrderId, Reason } from './values.js';

const PaymentId = z.uuid();

export const AuthorizePayment = defineCommand(
  'payment.authorize.v1',
  z.object({ orderId: OrderId, amount: Amount, currency: Currency, paymentToken: z.string().min(1).max(200) }),
  'Authorise the order’s total on the customer’s card.',
);
export const CapturePayment = defineCommand(
  'payment.capture.v1',
  z.object({ orderId: OrderId }),
  'Capture the authorised amount.',
);
export const VoidPayment = defineCommand(
  'payment.void.v1',
  z.object({ orderId: OrderId, reason: Reason }),
  'Release an authorisation that will not be captured.',
);
export const RefundPayment = defineCommand(
  'payment.refund.v1',
  z.object({ orderId: OrderId, reason: Reason }),
  'Give back a captured amount.',
);

export const PaymentAuthorized = defineEvent(
  'payment.authorized.v1',
  z.object({ orderId: OrderId, paymentId: PaymentId, amount: Amount, currency: Currency }),
  'The gateway authorised the amount.',
);
export const PaymentDeclined = defineEvent(
  'payment.declined.v1',
  z.object({
    orderId: OrderId,
    code: z.enum(['DECLINED', 'TIMED_OUT', 'GATEWAY_ERROR']),
    reason: Reason,
  }),
  'The payment step failed: declined by the gateway, or no answer within its attempts.',
);
export const PaymentCaptured = defineEvent(
  'payment.captured.v1',
  z.object({ orderId: OrderId, paymentId: PaymentId, amount: Amount, currency: Currency }),
  'The authorised amount was captured.',
);
export const PaymentVoided = defineEvent(
  'payment.voided.v1',
  z.object({ orderId: OrderId, paymentId: PaymentId.optional() }),
  'The authorisation was released (or there was none to release).',
);
export const PaymentRefunded = defineEvent(
  'payment.refunded.v1',
  z.object({ orderId: OrderId, paymentId: PaymentId.optional(), amount: Amount }),
  'The captured amount was refunded (or there was nothing to refund).',
);
