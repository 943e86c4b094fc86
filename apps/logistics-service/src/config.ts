import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema, STANDARD_WEBHOOK_SECRET } from '@orderflow/platform';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

export const configSchema = baseConfigSchema({ port: 3003 })
  .extend({
    ...messagingConfigShape,
    CARRIER_URL: httpUrl.describe('Base URL of the carrier’s API (the carrier simulator in development and tests)'),
    /** The carrier is called inside the message's transaction (see shipments.handlers.ts), so this stays short. */
    CARRIER_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
    CARRIER_WEBHOOK_URL: httpUrl
      .describe('Where the carrier reports deliveries; by default this process’s own POST /carrier/deliveries')
      .optional(),
    /** The carrier signs its reports with this (Standard Webhooks); comma-separate two during a rotation. */
    CARRIER_WEBHOOK_SECRET: z.string().regex(STANDARD_WEBHOOK_SECRET, 'expected whsec_ secrets'),
  })
  .transform((config) => ({
    ...config,
    CARRIER_WEBHOOK_URL: config.CARRIER_WEBHOOK_URL ?? `http://127.0.0.1:${config.PORT}/carrier/deliveries`,
  }));

export type LogisticsServiceConfig = z.infer<typeof configSchema>;
