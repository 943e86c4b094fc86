import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { SKU_PATTERN } from '../stock-item.js';

export class SkuParams {
  @ApiProperty({ example: 'SKU-CHAIR-01', pattern: SKU_PATTERN.source, maxLength: 64 })
  @Matches(SKU_PATTERN, { message: 'sku must be 1–64 letters, digits, dots, dashes or underscores' })
  sku: string;
}
