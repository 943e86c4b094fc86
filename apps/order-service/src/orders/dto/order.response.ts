import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AMOUNT, TIMESTAMP, UUID } from '@orderflow/platform';
import { OrderLineDto } from './place-order.dto.js';
import type { Order } from '../order.js';
import { CANCELLATION_REASONS } from '@orderflow/contracts';
import { ORDER_STATUSES } from '../order.js';

export class StatusChangeResponse {
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty(TIMESTAMP) at: string;
}

export class OrderResponse {
  @ApiProperty(UUID) orderId: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiPropertyOptional({ enum: CANCELLATION_REASONS }) statusReason?: string;
  @ApiProperty({ maxLength: 100 }) customerId: string;
  @ApiProperty({ type: [OrderLineDto], maxItems: 100 }) items: { sku: string; quantity: number; unitPrice: number }[];
  @ApiProperty({ ...AMOUNT, description: 'Minor units' }) totalAmount: number;
  @ApiProperty({ pattern: '^[A-Z]{3}$', maxLength: 3 }) currency: string;
  @ApiProperty(TIMESTAMP) createdAt: string;
  @ApiProperty(TIMESTAMP) updatedAt: string;
  // Each status is entered at most once.
  @ApiProperty({ type: [StatusChangeResponse], maxItems: ORDER_STATUSES.length }) history: StatusChangeResponse[];
  @ApiPropertyOptional(TIMESTAMP) cancellationRequestedAt?: string;
}

export class OrderPageResponse {
  @ApiProperty({ type: [OrderResponse], maxItems: 100 }) orders: OrderResponse[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page', maxLength: 200 })
  nextCursor?: string;
}

export function toResponse(order: Order): OrderResponse {
  const s = order.snapshot;
  return {
    orderId: s.id,
    status: s.status,
    ...(s.statusReason && { statusReason: s.statusReason }),
    customerId: s.customerId,
    items: s.items,
    totalAmount: s.totalAmount,
    currency: s.currency,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    history: s.history,
    ...(s.cancellationRequestedAt && { cancellationRequestedAt: s.cancellationRequestedAt }),
  };
}
