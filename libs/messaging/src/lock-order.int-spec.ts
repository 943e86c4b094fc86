// Two replicas' consumers handling messages of the same two orders at once, against real PostgreSQL and RabbitMQ:
// each batch takes its orders' row locks in one order (sorted by ordering key), so they wait for each other and never
// deadlock. Without the sort, the crossing batches below deadlock: PostgreSQL aborts one after deadlock_timeout, and
// the consumer redoes its messages one at a time — each of their handlers runs a second time.
import { randomUUID } from 'node:crypto';
import { MessagingRig, OutcomeCounter, recordEffect, waitFor } from '@orderflow/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';

let rig: MessagingRig;

beforeEach(async () => {
  rig = await MessagingRig.create();
});
afterEach(async () => {
  await rig.dispose();
});

it('two consumers whose batches hold the same two orders in opposite orders wait for each other, never deadlock', async () => {
  const [a, b] = [randomUUID(), randomUUID()];
  await rig.dataSource.query('INSERT INTO business_rows (order_id) VALUES ($1), ($2)', [a, b]);
  // Dispatched round-robin to the two consumers: each handles its first message alone (its lane starts at once),
  // and what arrives meanwhile becomes its next batch — B, A, B, A… on one consumer and A, B, A, B… on the other.
  const sequence = [a, b, ...Array.from({ length: 5 }, () => [b, a, a, b]).flat()];
  const calls: { consumer: string; orderId: string; transaction: string }[] = [];
  const consumers = ['first', 'second'];
  const counter = new OutcomeCounter();
  for (const name of consumers) {
    await rig.consumer({
      lanes: 1,
      observer: counter,
      handler: async (message, uow) => {
        const [row] = await uow.manager.query<{ xid: string }[]>(
          'SELECT txid_current()::text AS xid FROM business_rows WHERE order_id = $1 FOR UPDATE',
          [message.data.orderId],
        );
        calls.push({ consumer: name, orderId: message.data.orderId, transaction: row.xid });
        // Holding the order's lock a moment, so that the other consumer's batch reaches it meanwhile.
        await uow.manager.query('SELECT pg_sleep(0.05)');
        await recordEffect(message, uow);
      },
    });
  }
  await rig.publishDirectly(sequence);

  await waitFor(() => counter.counts.handled === sequence.length, {
    timeoutMs: 30_000,
    what: 'every message to be handled',
  });
  // No batch was rolled back and redone: each handler ran once, and each effect happened once.
  expect(calls.length, 'handler runs').toBe(sequence.length);
  expect([...(await rig.effectsPerMessage()).values()]).toEqual(sequence.map(() => 1));
  // The scenario happened: each consumer had a batch holding both orders.
  for (const name of consumers) {
    const batches = new Map<string, Set<string>>();
    for (const call of calls.filter((c) => c.consumer === name)) {
      batches.set(call.transaction, (batches.get(call.transaction) ?? new Set()).add(call.orderId));
    }
    expect(
      [...batches.values()].some((orders) => orders.size === 2),
      `${name} had a batch of both orders`,
    ).toBe(true);
  }
});
