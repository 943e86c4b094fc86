import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merchants and their credentials. API keys are kept as SHA-256 digests under a public key id; webhook secrets are
 * sealed (AES-256-GCM) because orderflow must sign with them again. Revoking keeps the row, for the audit trail.
 * Orders placed before merchants existed keep a NULL merchant and are visible to operators only.
 */
export class Merchants1764000000000 implements MigrationInterface {
  name = 'Merchants1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE merchants (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now()
      )
    `);
    await queryRunner.query(`
      CREATE TABLE merchant_api_keys (
        key_id text PRIMARY KEY,
        merchant_id uuid NOT NULL REFERENCES merchants (id),
        secret_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )
    `);
    await queryRunner.query(`CREATE INDEX merchant_api_keys_merchant ON merchant_api_keys (merchant_id)`);
    await queryRunner.query(`
      CREATE TABLE merchant_webhook_secrets (
        secret_id text PRIMARY KEY,
        merchant_id uuid NOT NULL REFERENCES merchants (id),
        sealed_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )
    `);
    await queryRunner.query(`CREATE INDEX merchant_webhook_secrets_merchant ON merchant_webhook_secrets (merchant_id)`);
    await queryRunner.query(`ALTER TABLE orders ADD COLUMN merchant_id uuid REFERENCES merchants (id)`);
    // A merchant's own listing, newest first; status and customer filters run within it.
    await queryRunner.query(`CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at DESC, id DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX orders_merchant_created`);
    await queryRunner.query(`ALTER TABLE orders DROP COLUMN merchant_id`);
    await queryRunner.query(`DROP TABLE merchant_webhook_secrets`);
    await queryRunner.query(`DROP TABLE merchant_api_keys`);
    await queryRunner.query(`DROP TABLE merchants`);
  }
}
