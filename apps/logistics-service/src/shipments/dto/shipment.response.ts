import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_REPORTERS, REJECTION_CODES, SHIPMENT_STATUSES, type Shipment } from '../shipment.js';

export class ShipmentResponse {
  @ApiProperty() shipmentId: string;
  @ApiProperty() orderId: string;
  @ApiProperty({ enum: SHIPMENT_STATUSES }) status: string;
  @ApiPropertyOptional({ description: 'The carrier’s tracking number, once booked' }) trackingNumber?: string;
  @ApiPropertyOptional({ enum: REJECTION_CODES }) rejectionCode?: string;
  @ApiPropertyOptional() rejectionReason?: string;
  @ApiProperty() createdAt: string;
  @ApiPropertyOptional() deliveredAt?: string;
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
