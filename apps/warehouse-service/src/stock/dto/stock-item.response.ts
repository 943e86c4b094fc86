import { ApiProperty } from '@nestjs/swagger';
import { MAX_ON_HAND, SKU_PATTERN, type StockItem } from '../stock-item.js';

const UNITS = { type: 'integer', format: 'int32', minimum: 0, maximum: MAX_ON_HAND } as const;

export class StockItemResponse {
  @ApiProperty({ pattern: SKU_PATTERN.source, maxLength: 64 }) sku: string;
  @ApiProperty({ ...UNITS, description: 'Units on the shelf, reserved ones included' }) onHand: number;
  @ApiProperty({ ...UNITS, description: 'Units promised to orders and not yet picked' }) reserved: number;
  @ApiProperty({ ...UNITS, description: 'Units that can still be reserved: onHand − reserved' })
  available: number;
}

export function toResponse(item: StockItem): StockItemResponse {
  const { sku, onHand, reserved } = item.snapshot;
  return { sku, onHand, reserved, available: item.available };
}
