import { ApiProperty } from '@nestjs/swagger';
import { AMOUNT, UUID } from '@orderflow/platform';
import { PAYMENT_STATUSES, type Payment } from '../payment.js';

export class PaymentResponse {
  @ApiProperty(UUID) paymentId: string;
  @ApiProperty(UUID) orderId: string;
  @ApiProperty({ enum: PAYMENT_STATUSES, description: 'PENDING while the gateway has not decided yet' })
  status: string;
  @ApiProperty({ ...AMOUNT, description: 'Minor units' }) amount: number;
  @ApiProperty({
    pattern: '^[A-Z]{3}$',
    maxLength: 3,
    description: 'ISO 4217; XXX for a payment released before any authorisation',
  })
  currency: string;
}

export function toResponse(payment: Payment): PaymentResponse {
  const s = payment.snapshot;
  return { paymentId: s.id, orderId: s.orderId, status: s.status, amount: s.amount, currency: s.currency };
}
