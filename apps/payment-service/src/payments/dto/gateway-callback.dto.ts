import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { OptionalProperty } from '@orderflow/platform';
import type { AuthorizationResult } from '../payment-gateway.js';

/** The result of a pending authorisation, as the gateway POSTs it to PAYMENT_WEBHOOK_URL. */
export class GatewayCallbackDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  authorizationId: string;

  @ApiProperty({ format: 'uuid', description: 'The order id the authorisation was requested for' })
  @IsUUID()
  reference: string;

  @ApiProperty({ enum: ['approved', 'declined', 'error'] })
  @IsIn(['approved', 'declined', 'error'])
  status: 'approved' | 'declined' | 'error';

  @ApiPropertyOptional()
  @OptionalProperty()
  @IsString()
  @Length(1, 500)
  reason?: string;

  @ApiPropertyOptional({ description: 'With `error`: request a new authorisation after this many milliseconds' })
  @OptionalProperty()
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  retryAfterMs?: number;
}

export function toResult(callback: GatewayCallbackDto): AuthorizationResult {
  const { authorizationId, status } = callback;
  const reason = callback.reason ?? status;
  if (status === 'approved') return { authorizationId, status };
  if (status === 'declined') return { authorizationId, status, reason };
  return { authorizationId, status, reason, retryAfterMs: callback.retryAfterMs };
}
