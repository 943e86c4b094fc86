/**
 * Gateway follow-ups move onto the durable scheduler (ADR 0021): every payment with a follow-up gets its job, due when
 * the follow-up is, so work due before the upgrade is done after it. The payment keeps its follow-up columns, which
 * the Payment still decides by and which a replica of the previous version, still running during a rolling upgrade,
 * reads and writes; so `down` only removes the jobs, and the previous version's poller finds every follow-up again.
 *
 * The topic and the payload are written out here rather than imported: a migration is what it was when it ran.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GatewayFollowUpsAsScheduledJobs1766000000000 implements MigrationInterface {
  name = 'GatewayFollowUpsAsScheduledJobs1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      INSERT INTO scheduled_jobs (topic, key, payload, due_at)
      SELECT 'payment.gateway-follow-up', id::text, jsonb_strip_nulls(jsonb_build_object('correlationId', correlation_id)),
             follow_up_due_at
        FROM payments
       WHERE follow_up IS NOT NULL
      ON CONFLICT (topic, key) DO NOTHING
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM scheduled_jobs WHERE topic = 'payment.gateway-follow-up'`);
  }
}
