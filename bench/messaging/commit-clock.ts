/**
 * Stamps the moment a transaction's COMMIT has returned, for the orders it wrote: a TypeORM subscriber, so the
 * library's own transactions (`Messaging.transaction`, the consumer's batch transaction) are timed without being
 * changed. A rolled-back transaction stamps nothing.
 */
import type { EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { now } from './protocol.js';

export class CommitClock implements EntitySubscriberInterface {
  private readonly open = new Map<QueryRunner, string[]>();

  constructor(private readonly committed: (orderIds: readonly string[], at: number) => void) {}

  /** `orderId` is written by the transaction running on `runner`. */
  track(runner: QueryRunner | undefined, orderId: string): void {
    if (!runner) throw new Error('not inside a transaction');
    const ids = this.open.get(runner);
    if (ids) ids.push(orderId);
    else this.open.set(runner, [orderId]);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const at = now();
    const ids = this.open.get(event.queryRunner);
    if (!ids) return;
    this.open.delete(event.queryRunner);
    this.committed(ids, at);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.open.delete(event.queryRunner);
  }
}
