import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3000 });

export type OrderServiceConfig = z.infer<typeof configSchema>;
