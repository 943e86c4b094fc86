import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3000 }).extend(messagingConfigShape);

export type OrderServiceConfig = z.infer<typeof configSchema>;
