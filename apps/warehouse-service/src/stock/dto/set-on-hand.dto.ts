import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_ON_HAND } from '../stock-item.js';

export class SetOnHandDto {
  @ApiProperty({
    type: 'integer',
    description: 'Units on the shelf, reserved ones included',
    minimum: 0,
    maximum: MAX_ON_HAND,
  })
  @IsInt()
  @Min(0)
  @Max(MAX_ON_HAND)
  onHand: number;
}
