// Idempotency-Key on the unit of work against real PostgreSQL: one key's work runs once, whether its requests come one
// after another (the second gets the first answer) or at once (the second is refused while the first holds the key);
// and the key's record commits with the work or not at all.
import { randomUUID } from 'node:crypto';
import { StockReserved } from '@orderflow/contracts';
import { MessagingRig, waitFor } from '@orderflow/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkContext } from '../messaging.js';
import { CreateIdempotencyKeys1765200000001 } from './idempotency-keys.migration.js';
import { hashOf, IdempotencyKeyInFlight, IdempotencyKeyReused, IdempotentRequest } from './idempotency-keys.js';

let rig: MessagingRig;

beforeEach(async () => {
  rig = await MessagingRig.create([CreateIdempotencyKeys1765200000001]);
});
afterEach(async () => {
  await rig.dispose();
});

const keyed = (scope: string, key: string, body: unknown): WorkContext & { idempotency: IdempotentRequest } => ({
  idempotency: new IdempotentRequest(scope, key, hashOf(body)),
});

/** The work of a request: one business row and one message, answered with the row's id. */
async function placeOne(context: WorkContext, gate?: Promise<void>): Promise<{ orderId: string }> {
  return rig.messaging().transaction(async (uow) => {
    const orderId = randomUUID();
    await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [orderId]);
    uow.publish(StockReserved.of({ orderId }));
    await gate;
    return { orderId };
  }, context);
}

const rows = () => rig.count('SELECT count(*) AS n FROM business_rows');
const messages = () => rig.count('SELECT count(*) AS n FROM outbox_messages');
const records = async (scope: string) => {
  const [{ n }] = await rig.dataSource.query<{ n: number }[]>(
    'SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = $1',
    [scope],
  );
  return n;
};

describe('a request with an Idempotency-Key', () => {
  it('sent again with the same body gets the first answer, and its work is not done again', async () => {
    const [scope, key, body] = [randomUUID(), randomUUID(), { sku: 'A', quantity: 2, note: { b: 1, a: 2 } }];
    const first = keyed(scope, key, body);
    const answer = await placeOne(first);
    expect(first.idempotency.replayed).toBe(false);

    // The same body with its fields in another order is the same request.
    const again = keyed(scope, key, { note: { a: 2, b: 1 }, quantity: 2, sku: 'A' });
    expect(await placeOne(again)).toEqual(answer);
    expect(again.idempotency.replayed).toBe(true);
    expect(await rows()).toBe(1);
    expect(await messages()).toBe(1);
    expect(await records(scope)).toBe(1);
  });

  it('sent again with another body is refused, and its work is not done', async () => {
    const [scope, key] = [randomUUID(), randomUUID()];
    await placeOne(keyed(scope, key, { quantity: 2 }));
    await expect(placeOne(keyed(scope, key, { quantity: 3 }))).rejects.toThrow(IdempotencyKeyReused);
    expect(await rows()).toBe(1);
    expect(await messages()).toBe(1);
  });

  it('sent while the first is still at work is refused at once; the first completes alone', async () => {
    const [scope, key, body] = [randomUUID(), randomUUID(), { quantity: 1 }];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = placeOne(keyed(scope, key, body), held);
    // The first has taken the key once its business row is written (its lock comes before its work).
    await waitForUncommittedWork();

    const startedAt = Date.now();
    await expect(placeOne(keyed(scope, key, body))).rejects.toThrow(IdempotencyKeyInFlight);
    expect(Date.now() - startedAt, 'ms the second waited').toBeLessThan(2_000);

    release();
    const answer = await first;
    expect(await rows()).toBe(1);
    expect(await messages()).toBe(1);
    // Once the first has committed, the same request gets its answer.
    expect(await placeOne(keyed(scope, key, body))).toEqual(answer);
  });

  it('is its scope’s own: the same key in another scope is another request', async () => {
    const [key, body] = [randomUUID(), { quantity: 1 }];
    const a = await placeOne(keyed(randomUUID(), key, body));
    const b = await placeOne(keyed(randomUUID(), key, body));
    expect(b.orderId).not.toBe(a.orderId);
    expect(await rows()).toBe(2);
  });

  it('whose work fails leaves no record: its retry does the work', async () => {
    const [scope, key, body] = [randomUUID(), randomUUID(), { quantity: 1 }];
    await expect(
      rig.messaging().transaction(
        async (uow) => {
          await uow.manager.query('INSERT INTO business_rows (order_id) VALUES ($1)', [randomUUID()]);
          throw new Error('the work failed');
        },
        keyed(scope, key, body),
      ),
    ).rejects.toThrow('the work failed');
    expect(await records(scope)).toBe(0);

    const retry = keyed(scope, key, body);
    await placeOne(retry);
    expect(retry.idempotency.replayed).toBe(false);
    expect(await rows()).toBe(1);
    expect(await records(scope)).toBe(1);
  });

  it('whose commit fails leaves no record either: the record is written in the work’s own transaction', async () => {
    // A deferred constraint is checked at COMMIT: the work and its record are written, the commit fails.
    await rig.dataSource.query(
      'CREATE TABLE deferred_rows (id int, CONSTRAINT deferred_rows_unique UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)',
    );
    const [scope, key, body] = [randomUUID(), randomUUID(), { quantity: 1 }];
    await expect(
      rig.messaging().transaction(
        async (uow) => {
          await uow.manager.query('INSERT INTO deferred_rows (id) VALUES (1), (1)');
          return { done: true };
        },
        keyed(scope, key, body),
      ),
    ).rejects.toThrow(/deferred_rows_unique/);
    expect(await records(scope)).toBe(0);
  });
});

/** Waits until a transaction has written a business row it has not committed: it is at work, holding its key. */
async function waitForUncommittedWork(): Promise<void> {
  await waitFor(
    async () => {
      const [{ n }] = await rig.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'business_rows' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()`,
      );
      return n > 0;
    },
    { timeoutMs: 10_000, intervalMs: 20, what: 'the first request to be at work' },
  );
}
