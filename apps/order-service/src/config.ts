import { messagingConfigShape } from '@orderflow/messaging';
import { baseConfigSchema } from '@orderflow/platform';
import { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3000 })
  .extend(messagingConfigShape)
  .extend({
    /**
     * Encrypts merchants' webhook signing secrets at rest (AES-256-GCM): 32 random bytes, base64. The database alone
     * then holds nothing that can sign a notification.
     */
    SECRETS_ENCRYPTION_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'expected 32 bytes, base64-encoded (openssl rand -base64 32)'),
  });

export type OrderServiceConfig = z.infer<typeof configSchema>;
