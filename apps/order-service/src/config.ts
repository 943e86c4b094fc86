import { messagingConfigShape } from '@orderflow/messaging';
import { aes256Key, baseConfigSchema, booleanFlag, loadSheddingConfigShape } from '@orderflow/platform';
import { schedulingConfigShape } from '@orderflow/scheduling';
import { z } from 'zod';
import { DEFAULT_RETRY_INTERVALS, parseDuration, parseIntervals } from './notifications/retry-schedule.js';

function durationList(description: string) {
  return z
    .string()
    .default(DEFAULT_RETRY_INTERVALS)
    .transform((value, ctx) => {
      try {
        return parseIntervals(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${description}: ${(err as Error).message}` });
        return z.NEVER;
      }
    });
}

function duration(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

export const configSchema = baseConfigSchema({ port: 3000 })
  .extend(messagingConfigShape)
  .extend(schedulingConfigShape)
  .extend(loadSheddingConfigShape)
  .extend({
    /**
     * New orders are refused (503) while this many are PENDING: placed, and neither confirmed nor cancelled yet. Set it
     * to the order throughput times the wait you accept before an order starts, well inside the saga's first
     * deadlines (docs/operations.md#load-shedding).
     */
    LOAD_SHEDDING_MAX_ORDERS_IN_FLIGHT: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
    /**
     * New orders are refused (503) while the oldest outbox message the relay could send is this old. Long enough to
     * ride out a broker fail-over or restart (absorbing that is what the outbox is for); what bounds the outbox's
     * backlog during a longer broker outage, in which readiness stays green.
     */
    LOAD_SHEDDING_MAX_OUTBOX_LAG_SECONDS: z.coerce.number().min(1).max(3_600).default(10),
    /** Waits between attempts to deliver a merchant notification, e.g. `4m,10m,1h` (docs/webhooks.md). */
    NOTIFICATION_RETRY_SCHEDULE: durationList('NOTIFICATION_RETRY_SCHEDULE'),
    /** Delay from a status change to the first attempt to notify the merchant. */
    NOTIFICATION_FIRST_ATTEMPT_DELAY: duration('0s'),
    /** When set (e.g. `success`), an attempt is acknowledged only by a 2xx whose body is exactly this. */
    NOTIFICATION_ACK_BODY: z.string().min(1).max(100).optional(),
    NOTIFICATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    NOTIFICATION_MAX_RESPONSE_BYTES: z.coerce.number().int().min(0).max(1_048_576).default(65_536),
    /** Attempts under way at once in each replica. */
    NOTIFICATION_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    /** Attempts under way at once to one merchant, across every replica: a slow merchant holds up no one else. */
    NOTIFICATION_CONCURRENCY_PER_MERCHANT: z.coerce.number().int().min(1).max(64).default(4),
    /**
     * Lets callback URLs reach loopback, private and link-local addresses. For development and tests only: in
     * production it would let anyone who can place an order make this service call inside your network.
     */
    CALLBACK_ALLOW_PRIVATE_NETWORKS: booleanFlag.default(false),
    /** How long resolving a callback URL's host may take when an order is placed; past it the URL is refused. */
    CALLBACK_RESOLVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
    /**
     * Encrypts merchants' webhook signing secrets at rest (AES-256-GCM): 32 random bytes, base64. The database alone
     * then holds nothing that can sign a notification.
     */
    SECRETS_ENCRYPTION_KEY: aes256Key,
    /**
     * Seals each order's payment token for the payment service, the only other holder of this key (AES-256-GCM, bound
     * to the order's id): outboxes, queues, dead letters and the saga carry it sealed (ADR 0015).
     */
    PAYMENT_TOKEN_KEY: aes256Key,
  });

export type OrderServiceConfig = z.infer<typeof configSchema>;
