import { messagingConfigShape } from '@orderflow/messaging';
import { aes256Key, baseConfigSchema, refuseWeakSecrets, STANDARD_WEBHOOK_SECRET } from '@orderflow/platform';
import { durationSetting, schedulingConfigShape } from '@orderflow/scheduling';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

export const configSchema = baseConfigSchema({ port: 3001 })
  .extend(messagingConfigShape)
  .extend(schedulingConfigShape)
  .extend({
    /** Base URL of the payment gateway's API (the simulator in development and tests). */
    PAYMENT_GATEWAY_URL: httpUrl,
    /**
     * Upper bound on one gateway call. Calls are made inside the message's database transaction, so this also
     * bounds how long a slow gateway holds a connection and the payment's row lock: keep it short, and let the
     * messaging core's retries (RETRY_*) cover a gateway that is slow for longer.
     */
    PAYMENT_GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2_000),
    /** Where the gateway reports the results of pending authorisations; by default this service's own endpoint. */
    PAYMENT_WEBHOOK_URL: httpUrl.optional(),
    /** The gateway signs its callbacks with this (Standard Webhooks); comma-separate two during a rotation. */
    PAYMENT_GATEWAY_WEBHOOK_SECRET: z
      .string()
      .regex(STANDARD_WEBHOOK_SECRET, 'expected whsec_ secrets')
      .superRefine(refuseWeakSecrets),
    /**
     * Opens the payment tokens the order service sealed for this service (the same key there): a token is clear only
     * in this process's memory, for the gateway call (ADR 0015).
     */
    PAYMENT_TOKEN_KEY: aes256Key,
    /**
     * A pending authorisation's result is also asked of the gateway (its callback may be lost): first after this,
     * then ever less often, at most PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL apart, for
     * PAYMENT_AUTHORIZATION_POLL_WINDOW; then the payment is given up TIMED_OUT (see authorization-poll.ts).
     */
    PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL: durationSetting('5s'),
    PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL: durationSetting('5m'),
    PAYMENT_AUTHORIZATION_POLL_WINDOW: durationSetting('30m'),
  })
  .transform((config) => ({
    ...config,
    PAYMENT_WEBHOOK_URL: config.PAYMENT_WEBHOOK_URL ?? `http://127.0.0.1:${config.PORT}/gateway/webhooks`,
  }));

export type PaymentServiceConfig = z.infer<typeof configSchema>;
