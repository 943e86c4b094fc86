import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Order } from '../order.js';
import { CANCELLATION_REASONS } from '@orderflow/contracts';
import { ORDER_STATUSES } from '../order.js';

export class StatusChangeResponse {
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty() at: string;
}

export class OrderResponse {
  @ApiProperty() orderId: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiPropertyOptional({ enum: CANCELLATION_REASONS }) statusReason?: string;
  @ApiProperty() customerId: string;
  @ApiProperty() items: { sku: string; quantity: number; unitPrice: number }[];
  @ApiProperty({ description: 'Minor units' }) totalAmount: number;
  @ApiProperty() currency: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ type: [StatusChangeResponse] }) history: StatusChangeResponse[];
  @ApiPropertyOptional() cancellationRequestedAt?: string;
}

export class OrderPageResponse {
  @ApiProperty({ type: [OrderResponse] }) orders: OrderResponse[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' })
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
