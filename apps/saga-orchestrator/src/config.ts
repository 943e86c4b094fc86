import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import { schedulingConfigShape } from '@orderflow/scheduling';
import { z } from 'zod';
import { consoleServiceUrls } from './console/console-services.js';
import { deadlinesConfigShape } from './order-saga/deadlines.config.js';

export const configSchema = baseConfigSchema({ port: 3004 })
  .extend(messagingConfigShape)
  .extend(schedulingConfigShape)
  .extend(deadlinesConfigShape)
  .extend({
    /** Finished sagas (state Final) are kept this long, then pruned with their history; 0 prunes them at once. */
    SAGA_RETENTION_DAYS: z.coerce.number().min(0).max(3_650).default(30),
    SAGA_PRUNE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
    /** Where the operator console finds the services whose dead letters and notifications it shows (operations.md). */
    CONSOLE_SERVICE_URLS: consoleServiceUrls.optional(),
  });

export type SagaServiceConfig = z.infer<typeof configSchema>;
