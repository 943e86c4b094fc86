import { z } from 'zod';
import { defineEvent } from '../message-type.js';
import { OrderId, Reason } from './values.js';

export const OrderStatusChanged = defineEvent(
  'fulfilment.order-status-changed.v1',
  z.object({
    orderId: OrderId,
    status: z.enum(['CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED']),
    statusReason: z
      .enum(['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'SHIPPING_UNAVAILABLE', 'CUSTOMER_CANCELLED', 'TIMED_OUT'])
      .optional(),
    detail: Reason.optional(),
  }),
  'The saga moved an order to a new status the merchant can see.',
);
