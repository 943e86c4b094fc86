import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema, refuseWeakSecrets, STANDARD_WEBHOOK_SECRET } from '@orderflow/platform';
import { durationSetting, schedulingConfigShape } from '@orderflow/scheduling';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

export const configSchema = baseConfigSchema({ port: 3003 })
  .extend({
    ...messagingConfigShape,
    ...schedulingConfigShape,
    CARRIER_URL: httpUrl.describe('Base URL of the carrier’s API (the carrier simulator in development and tests)'),
    /** Bounds one booking call; the booker's lease on a BOOKING shipment outlasts it (see shipment-booker.ts). */
    CARRIER_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
    /** Booking calls in flight at once per replica; more due bookings wait in the table for a free place. */
    CARRIER_BOOKING_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    /** Calls in all, the first included, before a booking the carrier never answered is rejected as CARRIER_ERROR. */
    CARRIER_BOOKING_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
    /** Backoff between unanswered calls: exponential from this, with jitter, up to CARRIER_BOOKING_RETRY_MAX_MS. */
    CARRIER_BOOKING_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1_000),
    CARRIER_BOOKING_RETRY_MAX_MS: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
    CARRIER_WEBHOOK_URL: httpUrl
      .describe('Where the carrier reports deliveries; by default this process’s own POST /carrier/deliveries')
      .optional(),
    /** The carrier signs its reports with this (Standard Webhooks); comma-separate two during a rotation. */
    CARRIER_WEBHOOK_SECRET: z
      .string()
      .regex(STANDARD_WEBHOOK_SECRET, 'expected whsec_ secrets')
      .superRefine(refuseWeakSecrets),
    /**
     * A booked shipment's delivery is also asked of the carrier (its report may be lost): first after this, then ever
     * less often (×3, ×12, ×60… of it), at most CARRIER_DELIVERY_POLL_MAX_INTERVAL apart, for
     * CARRIER_DELIVERY_POLL_WINDOW; then the saga is told the delivery went unreported (see delivery-poll.ts).
     */
    CARRIER_DELIVERY_POLL_FIRST_INTERVAL: durationSetting('1m'),
    CARRIER_DELIVERY_POLL_MAX_INTERVAL: durationSetting('1h'),
    /** Shorter than the saga's delivery deadline (14 days), so the saga parks with this reason rather than its own. */
    CARRIER_DELIVERY_POLL_WINDOW: durationSetting('10d'),
  })
  .transform((config) => ({
    ...config,
    CARRIER_WEBHOOK_URL: config.CARRIER_WEBHOOK_URL ?? `http://127.0.0.1:${config.PORT}/carrier/deliveries`,
  }));

export type LogisticsServiceConfig = z.infer<typeof configSchema>;
