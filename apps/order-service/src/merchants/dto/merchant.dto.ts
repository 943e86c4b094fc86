import { ApiProperty } from '@nestjs/swagger';
import { TIMESTAMP, UUID } from '@orderflow/platform';

// What the credentials look like (merchant-credentials.ts): `ofk_<16 hex>_<43 base64url>`, `whsec_<44 base64>`.
const API_KEY = { pattern: '^ofk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$', maxLength: 64 } as const;
const WEBHOOK_SECRET = { pattern: '^whsec_[A-Za-z0-9+/]{43}=$', maxLength: 50 } as const;
const CREDENTIAL_ID = { pattern: '^[\\w-]{1,64}$', maxLength: 64 } as const;
import { IsString, Length, Matches } from 'class-validator';

export class CreateMerchantDto {
  @ApiProperty({ example: 'Acme Widgets', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name: string;
}

export class CreatedMerchantResponse {
  @ApiProperty(UUID) merchantId: string;
  @ApiProperty({ maxLength: 200 }) name: string;
  @ApiProperty({ ...API_KEY, description: 'Shown once: store it now. Send it as `Authorization: Bearer <apiKey>`.' })
  apiKey: string;
  @ApiProperty({
    ...WEBHOOK_SECRET,
    description: 'Shown once: verifies the Standard Webhooks signature of notifications.',
  })
  webhookSecret: string;
}

export class CreatedApiKeyResponse {
  @ApiProperty(CREDENTIAL_ID) keyId: string;
  @ApiProperty({ ...API_KEY, description: 'Shown once' }) apiKey: string;
}

export class CreatedWebhookSecretResponse {
  @ApiProperty(CREDENTIAL_ID) secretId: string;
  @ApiProperty({ ...WEBHOOK_SECRET, description: 'Shown once' }) webhookSecret: string;
}

class CredentialSummary {
  @ApiProperty(TIMESTAMP) createdAt: string;
}

class ApiKeySummary extends CredentialSummary {
  @ApiProperty(CREDENTIAL_ID) keyId: string;
}

class WebhookSecretSummary extends CredentialSummary {
  @ApiProperty(CREDENTIAL_ID) secretId: string;
}

export class MerchantResponse {
  @ApiProperty(UUID) merchantId: string;
  @ApiProperty({ maxLength: 200 }) name: string;
  @ApiProperty(TIMESTAMP) createdAt: string;
  @ApiProperty({ type: [ApiKeySummary], description: 'Active keys, by id only' }) apiKeys: ApiKeySummary[];
  @ApiProperty({ type: [WebhookSecretSummary], description: 'Active secrets, by id only' })
  webhookSecrets: WebhookSecretSummary[];
}
