import { z } from 'zod';
import { defineCommand, defineEvent } from '../message-type.js';
import { Address, OrderId, OrderLine, Reason } from './values.js';

const ShipmentId = z.uuid();

export const CreateShipment = defineCommand(
  'logistics.create-shipment.v1',
  z.object({ orderId: OrderId, address: Address, items: z.array(OrderLine).min(1).max(100) }),
  'Book a shipment of the order with the carrier.',
);

export const ShipmentCreated = defineEvent(
  'logistics.shipment-created.v1',
  z.object({ orderId: OrderId, shipmentId: ShipmentId, trackingNumber: z.string().min(1).max(100) }),
  'The carrier accepted the shipment.',
);
export const ShipmentRejected = defineEvent(
  'logistics.shipment-rejected.v1',
  z.object({ orderId: OrderId, code: z.enum(['SHIPPING_UNAVAILABLE', 'CARRIER_ERROR']), reason: Reason }),
  'The carrier will not ship the order.',
);
export const ShipmentDelivered = defineEvent(
  'logistics.shipment-delivered.v1',
  z.object({ orderId: OrderId, shipmentId: ShipmentId, deliveredAt: z.iso.datetime() }),
  'The customer received the shipment.',
);
export const ShipmentDeliveryUnreported = defineEvent(
  'logistics.delivery-unreported.v1',
  z.object({ orderId: OrderId, shipmentId: ShipmentId, reason: Reason }),
  'The carrier never reported the delivery, and asking it for the polling window found none.',
);
