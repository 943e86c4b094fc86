import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class ListPaymentsQuery {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  orderId: string;
}
