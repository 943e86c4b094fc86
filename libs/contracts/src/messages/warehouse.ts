import { z } from 'zod';
import { defineCommand, defineEvent } from '../message-type.js';
import { OrderId, OrderLine, Reason, Sku } from './values.js';

export const ReserveStock = defineCommand(
  'warehouse.reserve-stock.v1',
  z.object({ orderId: OrderId, items: z.array(OrderLine).min(1).max(100) }),
  'Reserve every line of the order, all or nothing.',
);
export const ReleaseStock = defineCommand(
  'warehouse.release-stock.v1',
  z.object({ orderId: OrderId, reason: Reason }),
  'Give back the order’s reservation.',
);
export const PickStock = defineCommand(
  'warehouse.pick-stock.v1',
  z.object({ orderId: OrderId }),
  'Turn the order’s reservation into a pick: the goods leave the warehouse.',
);

export const StockReserved = defineEvent(
  'warehouse.stock-reserved.v1',
  z.object({ orderId: OrderId }),
  'Every line of the order is reserved.',
);
export const StockUnavailable = defineEvent(
  'warehouse.stock-unavailable.v1',
  z.object({ orderId: OrderId, skus: z.array(Sku).min(1) }),
  'At least one line could not be reserved; nothing was.',
);
export const StockReleased = defineEvent(
  'warehouse.stock-released.v1',
  z.object({ orderId: OrderId }),
  'The order’s reservation was given back (or there was none).',
);
export const StockPicked = defineEvent(
  'warehouse.stock-picked.v1',
  z.object({ orderId: OrderId }),
  'The order’s goods were picked.',
);
