import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3004 }).extend(messagingConfigShape);

export type SagaServiceConfig = z.infer<typeof configSchema>;
