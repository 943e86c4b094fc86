import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3003 });

export type LogisticsServiceConfig = z.infer<typeof configSchema>;
