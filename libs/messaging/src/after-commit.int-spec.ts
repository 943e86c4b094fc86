// UnitOfWork.afterCommit against real PostgreSQL and RabbitMQ: a callback runs once its transaction has committed
// (so what it starts, on another connection, finds the committed rows), and never for a transaction that did not
// commit — in Messaging.transaction, and in the consumer, whose failed batch is rolled back and redone one message at
// a time.
import { randomUUID } from 'node:crypto';
import { MessagingRig, OutcomeCounter, recordEffect, waitFor } from '@orderflow/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from './errors.js';

let rig: MessagingRig;

beforeEach(async () => {
  rig = await MessagingRig.create();
});
afterEach(async () => {
  await rig.dispose();
});

/** Read on a pooled connection of its own: sees only what has committed. */
const committedRows = (orderId: string) =>
  rig.count(`SELECT count(*) AS n FROM business_rows WHERE order_id = '${orderId}'`);

describe('Messaging.transaction', () => {
  it('runs the callbacks once the transaction has committed, in the order they were registered', async () => {
    const orderId = randomUUID();
    const ran: string[] = [];
    let seenByFirst: Promise<number> | undefined;
    let openWhenFirstRan: boolean | undefined;
    const result = await rig.messaging().transaction(async (uow) => {
      await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [orderId]);
      uow.afterCommit(() => {
        ran.push('first');
        openWhenFirstRan = uow.manager.queryRunner?.isTransactionActive;
        seenByFirst = committedRows(orderId);
      });
      uow.afterCommit(() => ran.push('second'));
      expect(ran, 'callbacks run during the work').toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(ran).toEqual(['first', 'second']);
    expect(openWhenFirstRan, 'the transaction still open when the first callback ran').toBe(false);
    expect(await seenByFirst, 'rows the first callback found committed').toBe(1);
  });

  it('never runs them when the work fails, nor when the commit itself fails', async () => {
    const ran: string[] = [];
    await expect(
      rig.messaging().transaction(async (uow) => {
        uow.afterCommit(() => ran.push('work failed'));
        await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [randomUUID()]);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');

    // A deferred constraint is checked at COMMIT: the work succeeds, the commit does not.
    await rig.dataSource.query(
      'CREATE TABLE deferred_rows (id int, CONSTRAINT deferred_rows_unique UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)',
    );
    const orderId = randomUUID();
    await expect(
      rig.messaging().transaction(async (uow) => {
        await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [orderId]);
        await uow.manager.query('INSERT INTO deferred_rows (id) VALUES (1), (1)');
        uow.afterCommit(() => ran.push('commit failed'));
      }),
    ).rejects.toThrow(/deferred_rows_unique/);
    expect(await committedRows(orderId)).toBe(0);
    expect(ran).toEqual([]);
  });

  it('reports a callback that throws without failing the committed transaction, and runs the others', async () => {
    const orderId = randomUUID();
    const ran: string[] = [];
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const result = await rig.messaging().transaction(async (uow) => {
      await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [orderId]);
      uow.afterCommit(() => {
        throw new Error('the hint failed');
      });
      uow.afterCommit(() => ran.push('second'));
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(ran).toEqual(['second']);
    expect((await warned).message).toBe('the hint failed');
    expect(await committedRows(orderId)).toBe(1);
  });
});

describe('the consumer', () => {
  it('runs a handler’s callbacks once its message’s transaction commits, never for a batch rolled back', async () => {
    // The greatest UUID: a consumer sorts each batch by ordering key (the order id), so the poison runs last in its
    // batch and the messages before it have run when it fails.
    const poison = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
    const orderIds = [...Array.from({ length: 9 }, () => randomUUID()), poison];
    const handled = new Map<string, number>();
    const ran: string[] = [];
    const openWhenRun: (boolean | undefined)[] = [];
    const effectsSeen: Promise<number>[] = [];
    const counter = new OutcomeCounter();
    // Published before the consumer starts, so that on its one lane they arrive together and share a batch.
    await rig.publishDirectly(orderIds);

    await rig.consumer({
      lanes: 1,
      observer: counter,
      handler: async (message, uow) => {
        const { orderId } = message.data;
        handled.set(orderId, (handled.get(orderId) ?? 0) + 1);
        await recordEffect(message, uow);
        uow.afterCommit(() => {
          ran.push(orderId);
          openWhenRun.push(uow.manager.queryRunner?.isTransactionActive);
          effectsSeen.push(rig.count(`SELECT count(*) AS n FROM effects WHERE message_id = '${message.id}'`));
        });
        if (orderId === poison) throw new PermanentError('poison');
      },
    });
    await waitFor(() => counter.counts.handled === 9 && counter.counts['dead-lettered'] === 1, {
      timeoutMs: 30_000,
      what: 'nine messages handled and the poison dead-lettered',
    });

    // The poison's batch was rolled back and its other messages handled again, one per transaction.
    const redone = orderIds.filter((orderId) => orderId !== poison && (handled.get(orderId) ?? 0) > 1);
    expect(redone.length, 'messages handled again after their batch rolled back').toBeGreaterThan(0);
    expect([...ran].sort()).toEqual(orderIds.filter((orderId) => orderId !== poison).sort());
    expect(openWhenRun, 'transactions still open when callbacks ran').toEqual(ran.map(() => false));
    expect(await Promise.all(effectsSeen), 'effects each callback found committed').toEqual(ran.map(() => 1));
  });
});
