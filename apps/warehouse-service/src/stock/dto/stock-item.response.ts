import { ApiProperty } from '@nestjs/swagger';
import type { StockItem } from '../stock-item.js';

export class StockItemResponse {
  @ApiProperty() sku: string;
  @ApiProperty({ type: 'integer', description: 'Units on the shelf, reserved ones included' }) onHand: number;
  @ApiProperty({ type: 'integer', description: 'Units promised to orders and not yet picked' }) reserved: number;
  @ApiProperty({ type: 'integer', description: 'Units that can still be reserved: onHand − reserved' })
  available: number;
}

export function toResponse(item: StockItem): StockItemResponse {
  const { sku, onHand, reserved } = item.snapshot;
  return { sku, onHand, reserved, available: item.available };
}
