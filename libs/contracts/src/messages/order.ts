import { z } from 'zod';
import { defineEvent } from '../message-type.js';
import { Address, Amount, Currency, OrderId, PricedOrderLine } from './values.js';

export const OrderPlaced = defineEvent(
  'order.placed.v1',
  z.object({
    orderId: OrderId,
    customerId: z.string().min(1).max(100),
    items: z.array(PricedOrderLine).min(1).max(100),
    totalAmount: Amount,
    currency: Currency,
    paymentToken: z
      .string()
      .min(1)
      .max(200)
      .describe('Payment-gateway token for the customer’s card, never a card number'),
    shippingAddress: Address,
  }),
  'A merchant placed an order; the saga starts fulfilling it.',
);

export const OrderCancellationRequested = defineEvent(
  'order.cancellation-requested.v1',
  z.object({ orderId: OrderId }),
  'The merchant asked to cancel an order that has not shipped yet.',
);
