import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3004 });

export type SagaServiceConfig = z.infer<typeof configSchema>;
