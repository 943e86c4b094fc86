/**
 * Merchants and their credentials. Every new credential is shown once, in the answer that creates it; afterwards
 * only its public id is known. Rotation has no gap: a merchant holds several API keys and several webhook secrets
 * at once, and the old one is revoked when the new one is in place.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SecretBox, SERVICE_CONFIG } from '@orderflow/platform';
import { DataSource } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import type { WebhookSigningSecrets } from '../notifications/webhook-signing-secrets.js';
import { issueApiKey, issueWebhookSecret } from './merchant-credentials.js';
import { type MerchantRecord, MerchantsRepository } from './merchants.repository.js';
import { Conflict, NotFound } from '@orderflow/platform/domain-errors';

export class MerchantNotFound extends NotFound {
  constructor() {
    super('No such merchant or credential');
  }
}

export class LastWebhookSecret extends Conflict {
  constructor() {
    super('a merchant keeps at least one webhook secret; add the new one before removing the old one');
  }
}

export interface CreatedMerchant {
  merchantId: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

@Injectable()
export class MerchantsService implements WebhookSigningSecrets {
  private readonly logger = new Logger(MerchantsService.name);
  private readonly box: SecretBox;

  constructor(
    private readonly dataSource: DataSource,
    private readonly merchants: MerchantsRepository,
    @Inject(SERVICE_CONFIG) config: OrderServiceConfig,
  ) {
    this.box = new SecretBox(config.SECRETS_ENCRYPTION_KEY);
  }

  async create(name: string, actor: string): Promise<CreatedMerchant> {
    const merchantId = randomUUID();
    const key = issueApiKey();
    const secret = issueWebhookSecret();
    await this.dataSource.transaction(async (manager) => {
      await this.merchants.insert(manager, { id: merchantId, name });
      await this.merchants.insertApiKey(manager, merchantId, key.keyId, key.secretHash);
      await this.merchants.insertWebhookSecret(
        manager,
        merchantId,
        secret.secretId,
        this.box.seal(secret.webhookSecret, secret.secretId),
      );
    });
    this.logger.log({ message: 'merchant created', merchantId, keyId: key.keyId, by: actor });
    return { merchantId, name, apiKey: key.apiKey, webhookSecret: secret.webhookSecret };
  }

  async get(merchantId: string): Promise<MerchantRecord> {
    const merchant = await this.merchants.find(this.dataSource.manager, merchantId);
    if (!merchant) throw new MerchantNotFound();
    return merchant;
  }

  async addApiKey(merchantId: string, actor: string): Promise<{ keyId: string; apiKey: string }> {
    const key = issueApiKey();
    await this.forMerchant(merchantId, (manager) =>
      this.merchants.insertApiKey(manager, merchantId, key.keyId, key.secretHash),
    );
    this.logger.log({ message: 'api key added', merchantId, keyId: key.keyId, by: actor });
    return { keyId: key.keyId, apiKey: key.apiKey };
  }

  async revokeApiKey(merchantId: string, keyId: string, actor: string): Promise<void> {
    await this.forMerchant(merchantId, async (manager) => {
      if (!(await this.merchants.revokeApiKey(manager, merchantId, keyId))) throw new MerchantNotFound();
    });
    this.logger.log({ message: 'api key revoked', merchantId, keyId, by: actor });
  }

  async addWebhookSecret(merchantId: string, actor: string): Promise<{ secretId: string; webhookSecret: string }> {
    const secret = issueWebhookSecret();
    await this.forMerchant(merchantId, (manager) =>
      this.merchants.insertWebhookSecret(
        manager,
        merchantId,
        secret.secretId,
        this.box.seal(secret.webhookSecret, secret.secretId),
      ),
    );
    this.logger.log({ message: 'webhook secret added', merchantId, secretId: secret.secretId, by: actor });
    return secret;
  }

  async revokeWebhookSecret(merchantId: string, secretId: string, actor: string): Promise<void> {
    await this.forMerchant(merchantId, async (manager) => {
      const secrets = await this.merchants.webhookSecrets(manager, merchantId);
      const target = secrets.find((s) => s.secretId === secretId);
      if (!target) throw new MerchantNotFound();
      if (!target.revoked && secrets.filter((s) => !s.revoked).length === 1) throw new LastWebhookSecret();
      await this.merchants.revokeWebhookSecret(manager, merchantId, secretId);
    });
    this.logger.log({ message: 'webhook secret revoked', merchantId, secretId, by: actor });
  }

  /** The secrets notifications are signed with now: every one not revoked, oldest first. */
  async signingSecrets(merchantId: string): Promise<string[]> {
    const secrets = await this.merchants.webhookSecrets(this.dataSource.manager, merchantId);
    return secrets.filter((s) => !s.revoked).map((s) => this.box.open(s.sealed, s.secretId));
  }

  private async forMerchant(merchantId: string, work: (manager: DataSource['manager']) => Promise<void>) {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.merchants.lock(manager, merchantId))) throw new MerchantNotFound();
      await work(manager);
    });
  }
}
