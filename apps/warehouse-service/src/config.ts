import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3002 }).extend(messagingConfigShape);

export type WarehouseServiceConfig = z.infer<typeof configSchema>;
