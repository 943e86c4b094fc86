import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TIMESTAMP, UUID } from '@orderflow/platform';
import { DELIVERY_REPORTERS, REJECTION_CODES, SHIPMENT_STATUSES, type Shipment } from '../shipment.js';

export class ShipmentResponse {
  @ApiProperty(UUID) shipmentId: string;
  @ApiProperty(UUID) orderId: string;
  @ApiProperty({ enum: SHIPMENT_STATUSES }) status: string;
  @ApiPropertyOptional({ description: 'The carrier’s tracking number, once booked', maxLength: 100 })
  trackingNumber?: string;
  @ApiPropertyOptional({ enum: REJECTION_CODES }) rejectionCode?: string;
  // As the shipment.rejected message carries it (libs/contracts: Reason).
  @ApiPropertyOptional({ maxLength: 500 }) rejectionReason?: string;
  @ApiProperty(TIMESTAMP) createdAt: string;
  @ApiPropertyOptional(TIMESTAMP) deliveredAt?: string;
  @ApiPropertyOptional({ enum: DELIVERY_REPORTERS }) deliveredBy?: string;
}

export function toResponse(shipment: Shipment): ShipmentResponse {
  const s = shipment.snapshot;
  return {
    shipmentId: s.id,
    orderId: s.orderId,
    status: s.status,
    ...('booking' in s && { trackingNumber: s.booking.trackingNumber }),
    ...(s.status === 'REJECTED' && { rejectionCode: s.rejection.code, rejectionReason: s.rejection.reason }),
    createdAt: s.createdAt,
    ...(s.status === 'DELIVERED' && { deliveredAt: s.deliveredAt, deliveredBy: s.deliveredBy }),
  };
}
