// The contracts' public face, named export by export: the message types, how they are defined and routed, and the
// registry. Build-time code (JSON Schema for the AsyncAPI document and the released snapshot) is in build.ts.

export { checkVerb, type DataOf, defineEvent, type MessageType, type OutgoingMessage } from './message-type.js';
export { OrderStatusChanged } from './messages/fulfilment.js';
export {
  CreateShipment,
  ShipmentCreated,
  ShipmentDelivered,
  ShipmentDeliveryUnreported,
  ShipmentRejected,
} from './messages/logistics.js';
export { OrderCancellationRequested, OrderPlaced } from './messages/order.js';
export {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
  RefundPayment,
  VoidPayment,
} from './messages/payment.js';
export { Address, CANCELLATION_REASONS, type CancellationReason, Sku } from './messages/values.js';
export {
  PickStock,
  ReleaseStock,
  ReserveStock,
  StockPicked,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from './messages/warehouse.js';
export { MESSAGE_TYPES, messageTypeOf } from './registry.js';
export { ORDERFLOW_ROUTING, type Routing } from './routing.js';
