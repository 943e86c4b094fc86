import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `idempotency_keys` becomes the table of libs/messaging's Idempotency-Key mechanism, which any endpoint may use: a
 * key's record is its scope, the request's hash and the answer, whatever the answer is. The two columns only an
 * order's placement filled, `order_id` (the answer holds it as `orderId`) and `response_status` (always 202; an
 * endpoint answers a replay with its own status), are no longer required, and nothing writes them any more.
 *
 * They are not dropped yet: production migrates before the new release starts, and the earlier release's replicas,
 * still serving during the roll-out, write both columns with every key; dropping them would fail those placements.
 * A later release, once no replica writes them, drops them. Every row already recorded stays a valid record, so a
 * placement retried across the upgrade still gets its first order.
 */
export class IdempotencyKeysForAnyEndpoint1765200000000 implements MigrationInterface {
  name = 'IdempotencyKeysForAnyEndpoint1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE idempotency_keys ALTER COLUMN order_id DROP NOT NULL, ALTER COLUMN response_status DROP NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Every record written since was a placement's (the only endpoint that takes keys): its answer names its order.
    await queryRunner.query(`
      UPDATE idempotency_keys
         SET order_id = coalesce(order_id, (response_body ->> 'orderId')::uuid),
             response_status = coalesce(response_status, 202)
    `);
    await queryRunner.query(
      `ALTER TABLE idempotency_keys ALTER COLUMN order_id SET NOT NULL, ALTER COLUMN response_status SET NOT NULL`,
    );
  }
}
