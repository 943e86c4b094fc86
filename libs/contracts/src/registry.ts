import type { MessageType } from './message-type.js';
import * as fulfilment from './messages/fulfilment.js';
import * as logistics from './messages/logistics.js';
import * as order from './messages/order.js';
import * as payment from './messages/payment.js';
import * as warehouse from './messages/warehouse.js';

/** Every message type orderflow has released, by wire type. */
export const MESSAGE_TYPES: readonly MessageType[] = [order, payment, warehouse, logistics, fulfilment].flatMap(
  (module) => Object.values(module) as MessageType[],
);

const byType = new Map(MESSAGE_TYPES.map((m) => [m.type, m]));
if (byType.size !== MESSAGE_TYPES.length) throw new Error('two message types share a wire type');

export function messageTypeOf(type: string): MessageType | undefined {
  return byType.get(type);
}
