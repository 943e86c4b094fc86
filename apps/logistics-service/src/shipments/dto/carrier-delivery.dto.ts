import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';

/** The carrier's delivery report, as its webhook sends it. */
export class CarrierDeliveryDto {
  @ApiProperty({ description: 'The carrier’s own shipment id, as it answered the booking' })
  @IsString()
  @Length(1, 100)
  shipmentId: string;

  @ApiProperty({ description: 'The reference the shipment was booked under: the order id' })
  @IsUUID()
  reference: string;

  @ApiProperty({ description: 'When the parcel was delivered (ISO 8601, with its offset)' })
  @MaxLength(40)
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, {
    message: 'deliveredAt must be a date and time with its offset, e.g. 2026-01-31T14:05:00Z',
  })
  deliveredAt: string;
}
