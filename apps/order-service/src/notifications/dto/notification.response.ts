import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AMOUNT, TIMESTAMP, UUID } from '@orderflow/platform';
import { CANCELLATION_REASONS } from '@orderflow/contracts';
import { ORDER_STATUSES } from '../../orders/order.js';
import { NOTIFICATION_STATES } from '../notification.js';

/** How much of why an attempt failed is answered: the merchant's answer is already cut to an excerpt. */
const ERROR_CHARS = 1_000;

/** At most one notification per status the order enters, and a page of failed ones at most 200. */
const NOTIFICATIONS_PER_ANSWER = 200;
import type { NotificationWithAttempts } from '../notifications.repository.js';

export class NotificationAttemptResponse {
  @ApiProperty({ ...AMOUNT, minimum: 1, description: 'Numbered 1, 2, … across every round of attempts' })
  attempt: number;
  @ApiProperty(TIMESTAMP) startedAt: string;
  @ApiPropertyOptional(TIMESTAMP) endedAt?: string;
  @ApiPropertyOptional({
    enum: ['ACKNOWLEDGED', 'FAILED', 'INTERRUPTED'],
    description: 'Absent while the attempt is under way',
  })
  outcome?: string;
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    minimum: 100,
    maximum: 599,
    description: "The merchant endpoint's HTTP status",
  })
  statusCode?: number;
  @ApiPropertyOptional(AMOUNT) latencyMs?: number;
  @ApiPropertyOptional({ description: 'Why the attempt failed', maxLength: ERROR_CHARS }) error?: string;
}

export class NotificationResponse {
  @ApiProperty({ ...UUID, description: 'Also the webhook-id header of every attempt' }) notificationId: string;
  @ApiProperty(UUID) orderId: string;
  @ApiProperty({ enum: ORDER_STATUSES, description: 'The order status notified' }) status: string;
  @ApiPropertyOptional({ enum: CANCELLATION_REASONS }) statusReason?: string;
  @ApiProperty(AMOUNT) sequence: number;
  @ApiProperty(TIMESTAMP) occurredAt: string;
  @ApiProperty({ enum: NOTIFICATION_STATES }) state: string;
  @ApiPropertyOptional({ ...TIMESTAMP, description: 'When the next attempt is due, while PENDING' })
  nextAttemptAt?: string;
  @ApiPropertyOptional({ ...TIMESTAMP, description: 'When it was acknowledged, or given up' }) settledAt?: string;
  @ApiProperty({ type: [NotificationAttemptResponse] }) attempts: NotificationAttemptResponse[];
}

export class NotificationListResponse {
  @ApiProperty({ type: [NotificationResponse], maxItems: NOTIFICATIONS_PER_ANSWER })
  notifications: NotificationResponse[];
}

export function toResponse({ notification, attempts }: NotificationWithAttempts): NotificationResponse {
  const s = notification.snapshot;
  return {
    notificationId: s.id,
    orderId: s.orderId,
    status: s.payload.status,
    ...(s.payload.statusReason !== undefined && { statusReason: s.payload.statusReason }),
    sequence: s.payload.sequence,
    occurredAt: s.payload.occurredAt,
    state: s.state,
    ...(s.nextAttemptAt && { nextAttemptAt: s.nextAttemptAt.toISOString() }),
    ...(s.settledAt && { settledAt: s.settledAt.toISOString() }),
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      ...(a.endedAt && { endedAt: a.endedAt.toISOString() }),
      ...(a.outcome && { outcome: a.outcome }),
      ...(a.statusCode !== undefined && { statusCode: a.statusCode }),
      ...(a.latencyMs !== undefined && { latencyMs: a.latencyMs }),
      ...(a.error !== undefined && { error: a.error.slice(0, ERROR_CHARS) }),
    })),
  };
}
