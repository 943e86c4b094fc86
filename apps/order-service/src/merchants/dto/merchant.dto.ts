import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class CreateMerchantDto {
  @ApiProperty({ example: 'Acme Widgets', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name: string;
}

export class CreatedMerchantResponse {
  @ApiProperty() merchantId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Shown once: store it now. Send it as `Authorization: Bearer <apiKey>`.' })
  apiKey: string;
  @ApiProperty({ description: 'Shown once: verifies the Standard Webhooks signature of notifications.' })
  webhookSecret: string;
}

export class CreatedApiKeyResponse {
  @ApiProperty() keyId: string;
  @ApiProperty({ description: 'Shown once' }) apiKey: string;
}

export class CreatedWebhookSecretResponse {
  @ApiProperty() secretId: string;
  @ApiProperty({ description: 'Shown once' }) webhookSecret: string;
}

class CredentialSummary {
  @ApiProperty() createdAt: string;
}

class ApiKeySummary extends CredentialSummary {
  @ApiProperty() keyId: string;
}

class WebhookSecretSummary extends CredentialSummary {
  @ApiProperty() secretId: string;
}

export class MerchantResponse {
  @ApiProperty() merchantId: string;
  @ApiProperty() name: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: [ApiKeySummary], description: 'Active keys, by id only' }) apiKeys: ApiKeySummary[];
  @ApiProperty({ type: [WebhookSecretSummary], description: 'Active secrets, by id only' })
  webhookSecrets: WebhookSecretSummary[];
}
