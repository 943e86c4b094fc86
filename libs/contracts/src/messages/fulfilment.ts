import { z } from 'zod';
import { defineEvent } from '../message-type.js';
import { CANCELLATION_REASONS, OrderId, Reason } from './values.js';

export const OrderStatusChanged = defineEvent(
  'fulfilment.order-status-changed.v1',
  z.object({
    orderId: OrderId,
    status: z.enum(['CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED']),
    statusReason: z.enum(CANCELLATION_REASONS).optional(),
    detail: Reason.optional(),
  }),
  'The saga moved an order to a new status the merchant can see.',
);
