import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3003 }).extend(messagingConfigShape);

export type LogisticsServiceConfig = z.infer<typeof configSchema>;
