import { Injectable } from '@nestjs/common';
import { MerchantAuthenticator, type MerchantPrincipal } from '@orderflow/platform';
import { DataSource } from 'typeorm';
import { parseApiKey, secretMatches } from './merchant-credentials.js';
import { MerchantsRepository } from './merchants.repository.js';

/** A digest of nothing in particular, compared when a key id is unknown so that case takes the same work. */
const NO_KEY = Buffer.alloc(32);

/**
 * Recognises merchant API keys for the access guards. Looked up on every request, with no cache: a revoked key
 * stops working at once, on every replica.
 */
@Injectable()
export class MerchantApiKeys extends MerchantAuthenticator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly merchants: MerchantsRepository,
  ) {
    super();
  }

  async authenticate(apiKey: string): Promise<MerchantPrincipal | undefined> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const key = await this.merchants.findActiveApiKey(this.dataSource.manager, parsed.keyId);
    const matches = secretMatches(parsed.secret, key?.secretHash ?? NO_KEY);
    return key && matches ? { kind: 'merchant', merchantId: key.merchantId, keyId: parsed.keyId } : undefined;
  }
}
