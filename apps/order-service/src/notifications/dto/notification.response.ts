import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NOTIFICATION_STATES } from '../notification.js';
import type { NotificationWithAttempts } from '../notifications.repository.js';

export class NotificationAttemptResponse {
  @ApiProperty({ description: 'Numbered 1, 2, … across every round of attempts' }) attempt: number;
  @ApiProperty() startedAt: string;
  @ApiPropertyOptional() endedAt?: string;
  @ApiPropertyOptional({
    enum: ['ACKNOWLEDGED', 'FAILED', 'INTERRUPTED'],
    description: 'Absent while the attempt is under way',
  })
  outcome?: string;
  @ApiPropertyOptional({ description: "The merchant endpoint's HTTP status" }) statusCode?: number;
  @ApiPropertyOptional() latencyMs?: number;
  @ApiPropertyOptional({ description: 'Why the attempt failed' }) error?: string;
}

export class NotificationResponse {
  @ApiProperty({ description: 'Also the webhook-id header of every attempt' }) notificationId: string;
  @ApiProperty() orderId: string;
  @ApiProperty({ description: 'The order status notified' }) status: string;
  @ApiPropertyOptional() statusReason?: string;
  @ApiProperty() sequence: number;
  @ApiProperty() occurredAt: string;
  @ApiProperty({ enum: NOTIFICATION_STATES }) state: string;
  @ApiPropertyOptional({ description: 'When the next attempt is due, while PENDING' }) nextAttemptAt?: string;
  @ApiPropertyOptional({ description: 'When it was acknowledged, or given up' }) settledAt?: string;
  @ApiProperty({ type: [NotificationAttemptResponse] }) attempts: NotificationAttemptResponse[];
}

export class NotificationListResponse {
  @ApiProperty({ type: [NotificationResponse] }) notifications: NotificationResponse[];
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
      ...(a.error !== undefined && { error: a.error }),
    })),
  };
}
