import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageLimit } from '@orderflow/platform';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { ORDER_STATUSES, type OrderStatus } from '../order.js';

export class ListOrdersQuery {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  customerId?: string;

  @PageLimit({ max: 100, default: 20 })
  limit = 20;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}
