/**
 * The outbox is a queue: it fills and empties all day, and the statistics PostgreSQL plans with swing with it. When a
 * vacuum found it empty it also truncated it to zero pages; a statement planned then (and cached as a prepared
 * statement's plan until the next vacuum or analyze) chose a sequential scan — of zero pages, free — and went on
 * reading every page the table grew back to, dead rows included: measured 37,000 buffers per relay claim and
 * 500 per reserving INSERT at load (bench/RESULTS.md, 2026-12-05). Without truncation the table keeps its pages,
 * so a sequential scan is costed at the table's real size and the partial indexes win, as intended. It also spares
 * the table the exclusive lock a truncating vacuum takes at its end. The space is reused by the next inserts.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxKeepsItsPages1765100000000 implements MigrationInterface {
  name = 'OutboxKeepsItsPages1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox_messages SET (vacuum_truncate = false)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox_messages RESET (vacuum_truncate)`);
  }
}
