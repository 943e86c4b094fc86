import { type OutgoingMessage, ShipmentCreated, ShipmentRejected } from '@orderflow/contracts';
import type { Shipment } from './shipment.js';

/**
 * The event that answers CreateShipment for this shipment: the same one however often the command is sent. A
 * shipment still BOOKING has none yet; the booker publishes it when it records the carrier's answer.
 */
export function outcomeOf(shipment: Shipment): OutgoingMessage {
  const s = shipment.snapshot;
  switch (s.status) {
    case 'BOOKING':
      throw new Error(`shipment ${s.id} is still BOOKING: the carrier has not answered yet`);
    case 'REJECTED':
      return ShipmentRejected.of({ orderId: s.orderId, code: s.rejection.code, reason: s.rejection.reason });
    case 'CREATED':
    case 'DELIVERED':
      return ShipmentCreated.of({ orderId: s.orderId, shipmentId: s.id, trackingNumber: s.booking.trackingNumber });
  }
}
