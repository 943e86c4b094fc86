import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class ListShipmentsQuery {
  @ApiProperty({ description: 'The order whose shipments to list' })
  @IsUUID()
  orderId: string;
}
