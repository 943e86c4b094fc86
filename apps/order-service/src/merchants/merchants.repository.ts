/** Merchants and their credentials in the order service's database. Credentials are only ever added or revoked. */
import type { EntityManager } from 'typeorm';

export interface MerchantRecord {
  merchantId: string;
  name: string;
  createdAt: string;
  apiKeys: { keyId: string; createdAt: string }[];
  webhookSecrets: { secretId: string; createdAt: string }[];
}

export class MerchantsRepository {
  async insert(manager: EntityManager, merchant: { id: string; name: string }): Promise<void> {
    await manager.query('INSERT INTO merchants (id, name) VALUES ($1, $2)', [merchant.id, merchant.name]);
  }

  /** Locks the merchant's row, so that concurrent credential changes of one merchant take turns. */
  async lock(manager: EntityManager, merchantId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>('SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE', [merchantId]);
    return rows.length === 1;
  }

  async find(manager: EntityManager, merchantId: string): Promise<MerchantRecord | undefined> {
    const [merchant] = await manager.query<{ id: string; name: string; created_at: Date }[]>(
      'SELECT id, name, created_at FROM merchants WHERE id = $1',
      [merchantId],
    );
    if (!merchant) return undefined;
    const keys = await manager.query<{ key_id: string; created_at: Date }[]>(
      `SELECT key_id, created_at FROM merchant_api_keys WHERE merchant_id = $1 AND revoked_at IS NULL
       ORDER BY created_at`,
      [merchantId],
    );
    const secrets = await manager.query<{ secret_id: string; created_at: Date }[]>(
      `SELECT secret_id, created_at FROM merchant_webhook_secrets WHERE merchant_id = $1 AND revoked_at IS NULL
       ORDER BY created_at`,
      [merchantId],
    );
    return {
      merchantId: merchant.id,
      name: merchant.name,
      createdAt: merchant.created_at.toISOString(),
      apiKeys: keys.map((k) => ({ keyId: k.key_id, createdAt: k.created_at.toISOString() })),
      webhookSecrets: secrets.map((s) => ({ secretId: s.secret_id, createdAt: s.created_at.toISOString() })),
    };
  }

  async insertApiKey(manager: EntityManager, merchantId: string, keyId: string, secretHash: Buffer): Promise<void> {
    await manager.query('INSERT INTO merchant_api_keys (key_id, merchant_id, secret_hash) VALUES ($1, $2, $3)', [
      keyId,
      merchantId,
      secretHash,
    ]);
  }

  /** The merchant an active key belongs to, with the digest to compare against; nothing for a revoked key. */
  async findActiveApiKey(
    manager: EntityManager,
    keyId: string,
  ): Promise<{ merchantId: string; secretHash: Buffer } | undefined> {
    const [row] = await manager.query<{ merchant_id: string; secret_hash: Buffer }[]>(
      'SELECT merchant_id, secret_hash FROM merchant_api_keys WHERE key_id = $1 AND revoked_at IS NULL',
      [keyId],
    );
    return row && { merchantId: row.merchant_id, secretHash: row.secret_hash };
  }

  /** False when the merchant has no such key. Revoking a revoked key is a no-op, so a retried DELETE is safe. */
  async revokeApiKey(manager: EntityManager, merchantId: string, keyId: string): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, affected] = await manager.query<[unknown, number]>(
      `UPDATE merchant_api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE merchant_id = $1 AND key_id = $2`,
      [merchantId, keyId],
    );
    return affected === 1;
  }

  async insertWebhookSecret(manager: EntityManager, merchantId: string, secretId: string, sealed: string) {
    await manager.query(
      'INSERT INTO merchant_webhook_secrets (secret_id, merchant_id, sealed_secret) VALUES ($1, $2, $3)',
      [secretId, merchantId, sealed],
    );
  }

  async webhookSecrets(
    manager: EntityManager,
    merchantId: string,
  ): Promise<{ secretId: string; sealed: string; revoked: boolean }[]> {
    const rows = await manager.query<{ secret_id: string; sealed_secret: string; revoked_at: Date | null }[]>(
      `SELECT secret_id, sealed_secret, revoked_at FROM merchant_webhook_secrets WHERE merchant_id = $1
       ORDER BY created_at`,
      [merchantId],
    );
    return rows.map((r) => ({ secretId: r.secret_id, sealed: r.sealed_secret, revoked: r.revoked_at !== null }));
  }

  async revokeWebhookSecret(manager: EntityManager, merchantId: string, secretId: string): Promise<void> {
    await manager.query(
      `UPDATE merchant_webhook_secrets SET revoked_at = COALESCE(revoked_at, now())
       WHERE merchant_id = $1 AND secret_id = $2`,
      [merchantId, secretId],
    );
  }
}
