import { baseConfigSchema } from '@orderflow/platform';
import type { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3001 });

export type PaymentServiceConfig = z.infer<typeof configSchema>;
