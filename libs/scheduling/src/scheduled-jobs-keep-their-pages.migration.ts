/**
 * Like the outbox (see `OutboxKeepsItsPages` in @orderflow/messaging), the jobs table is a queue: a saga inserts and
 * deletes its deadlines on every transition. A vacuum that truncated it to zero pages let the runner's claim be
 * planned, and cached, as a sequential scan of an empty table, which then read every page the table grew back to.
 * Without truncation a sequential scan is costed at the table's real size, and the indexes win.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ScheduledJobsKeepTheirPages1765100000001 implements MigrationInterface {
  name = 'ScheduledJobsKeepTheirPages1765100000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE scheduled_jobs SET (vacuum_truncate = false)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE scheduled_jobs RESET (vacuum_truncate)`);
  }
}
