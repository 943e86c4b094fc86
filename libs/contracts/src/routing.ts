/**
 * Who sends what, and which queue receives it: the data from which the broker topology, the RabbitMQ definitions,
 * the Kubernetes topology resources and the AsyncAPI document are all generated.
 */
import type { MessageType } from './message-type.js';
import { OrderStatusChanged } from './messages/fulfilment.js';
import {
  CreateShipment,
  ShipmentCreated,
  ShipmentDelivered,
  ShipmentDeliveryUnreported,
  ShipmentRejected,
} from './messages/logistics.js';
import { OrderCancellationRequested, OrderPlaced } from './messages/order.js';
import {
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
import {
  PickStock,
  ReleaseStock,
  ReserveStock,
  StockPicked,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from './messages/warehouse.js';

export interface QueueRoute {
  /** `<service>.<purpose>`, the name shown in the RabbitMQ console. */
  readonly name: string;
  readonly service: string;
  readonly summary: string;
  readonly receives: readonly MessageType[];
}

export interface Routing {
  readonly queues: readonly QueueRoute[];
  /** What each service may publish (events) or send (commands). */
  readonly publishes: Readonly<Record<string, readonly MessageType[]>>;
}

export const ORDERFLOW_ROUTING: Routing = {
  queues: [
    {
      name: 'payment.commands',
      service: 'payment',
      summary: 'Payment steps the saga asks for',
      receives: [AuthorizePayment, CapturePayment, VoidPayment, RefundPayment],
    },
    {
      name: 'warehouse.commands',
      service: 'warehouse',
      summary: 'Stock steps the saga asks for',
      receives: [ReserveStock, ReleaseStock, PickStock],
    },
    {
      name: 'logistics.commands',
      service: 'logistics',
      summary: 'Shipment steps the saga asks for',
      receives: [CreateShipment],
    },
    {
      name: 'saga.events',
      service: 'saga',
      summary: 'Everything that moves an order saga',
      receives: [
        OrderPlaced,
        OrderCancellationRequested,
        PaymentAuthorized,
        PaymentDeclined,
        PaymentCaptured,
        PaymentVoided,
        PaymentRefunded,
        StockReserved,
        StockUnavailable,
        StockReleased,
        StockPicked,
        ShipmentCreated,
        ShipmentRejected,
        ShipmentDelivered,
        ShipmentDeliveryUnreported,
      ],
    },
    {
      name: 'order.status-updates',
      service: 'order',
      summary: 'Status changes the order service shows merchants',
      receives: [OrderStatusChanged],
    },
  ],
  publishes: {
    order: [OrderPlaced, OrderCancellationRequested],
    payment: [PaymentAuthorized, PaymentDeclined, PaymentCaptured, PaymentVoided, PaymentRefunded],
    warehouse: [StockReserved, StockUnavailable, StockReleased, StockPicked],
    logistics: [ShipmentCreated, ShipmentRejected, ShipmentDelivered, ShipmentDeliveryUnreported],
    saga: [
      AuthorizePayment,
      CapturePayment,
      VoidPayment,
      RefundPayment,
      ReserveStock,
      ReleaseStock,
      PickStock,
      CreateShipment,
      OrderStatusChanged,
    ],
  },
};
