/**
 * The durable scheduler's table, in the database of each service that schedules work (listed in its
 * `database.ts`). One row per pending job; a job that is done is deleted, because the owner of the work (a
 * notification, a saga) keeps its own record of what happened.
 *
 * - `(topic, key)` is unique: scheduling the same job again moves it instead of doubling it.
 * - `lease_token` / `lease_until`: set when a runner claims the job. A runner that dies leaves a lease that
 *   expires, and the job is claimed again; a runner settles only while its token is still the row's.
 * - `group_key` names a group whose jobs share a concurrency limit across replicas (a merchant's deliveries) and
 *   can be cancelled together (a saga instance's deadlines).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateScheduledJobs1764100000000 implements MigrationInterface {
  name = 'CreateScheduledJobs1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE scheduled_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        topic text NOT NULL,
        key text NOT NULL,
        group_key text,
        payload jsonb NOT NULL DEFAULT '{}',
        due_at timestamptz NOT NULL,
        runs integer NOT NULL DEFAULT 0,
        lease_token uuid,
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT scheduled_jobs_topic_key UNIQUE (topic, key),
        CONSTRAINT scheduled_jobs_lease CHECK ((lease_token IS NULL) = (lease_until IS NULL))
      )
    `);
    await queryRunner.query(`CREATE INDEX scheduled_jobs_due ON scheduled_jobs (topic, due_at)`);
    // Counting a group's leased jobs, and cancelling all of one group's jobs (a saga instance's deadlines).
    await queryRunner.query(`CREATE INDEX scheduled_jobs_group ON scheduled_jobs (topic, group_key)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE scheduled_jobs`);
  }
}
