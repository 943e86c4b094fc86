import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3001 }).extend(messagingConfigShape);

export type PaymentServiceConfig = z.infer<typeof configSchema>;
