/**
 * The messaging settings every service reads from its environment, with bounds and defaults that keep the
 * guarantees: a setting out of range refuses to start the service (configuration problems are reported all at once)
 * rather than running with a retention, a batch or a retry policy that could lose or repeat work.
 */
import { z } from 'zod';

/** Messaging settings every service reads; merged into the service's configuration schema. */
export const messagingConfigShape = {
  /**
   * 0 (the default): an outbox row is deleted as soon as the broker confirms it. More: sent rows are kept this long,
   * for inspection, then pruned in small batches — at the cost of a second row version per message.
   */
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 90)
    .default(0),
  /** Inbox records must outlive any duplicate: relay leases, broker redeliveries and backlogs (see docs/messaging.md). */
  INBOX_RETENTION_DAYS: z.coerce.number().min(1).max(365).default(7),
  /** /health/ready shows the outbox `degraded` (still 200) while the oldest unsent outbox row is older than this. */
  OUTBOX_READY_MAX_AGE_SECONDS: z.coerce.number().min(1).default(60),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  RELAY_WORKERS: z.coerce.number().int().min(1).max(32).default(2),
  CONSUMER_PREFETCH: z.coerce.number().int().min(1).max(5_000).default(200),
  CONSUMER_LANES: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * Deliveries handled in one transaction. Handlers that lock shared rows (the warehouse's stock) can deadlock
   * across batches of different orders; PostgreSQL breaks the deadlock and the batch is redone one message at a
   * time, so results stay right — a smaller batch trades throughput for fewer such retries.
   */
  CONSUMER_MAX_BATCH: z.coerce.number().int().min(1).max(500).default(50),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(1_000),
  RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).default(300_000),
};

export type MessagingConfig = z.infer<z.ZodObject<typeof messagingConfigShape>>;
