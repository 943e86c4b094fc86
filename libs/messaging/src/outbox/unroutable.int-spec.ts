// What the relay does with a row the broker cannot route (no queue bound for its routing key), against the real
// broker: the publish is mandatory, so the broker returns it; the row stays in the outbox, deferred with a growing
// backoff and its reason, while the routable rows of the same batch are sent and deleted.
import { randomUUID } from 'node:crypto';
import { MessagingRig } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedRow } from './outbox-store.js';

let rig: MessagingRig;
beforeAll(async () => {
  rig = await MessagingRig.create();
});
afterAll(async () => {
  await rig.dispose();
});

async function row(routingKey: string): Promise<string> {
  const messageId = randomUUID();
  await rig.dataSource.query(
    `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body)
     VALUES ($1::uuid, 'orderflow.events', $2, $3, jsonb_build_object('messageId', $4::text), '\\x7b7d')`,
    [messageId, routingKey, randomUUID(), messageId],
  );
  return messageId;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a row the broker cannot route', () => {
  it('stays in the outbox, deferred with its reason, while the routable rows beside it are sent', async () => {
    const unroutable = await row(`nobody.listens-${Date.now()}.v1`);
    const routable = await row('warehouse.stock-reserved.v1');
    const failed: ClaimedRow[] = [];
    const published: ClaimedRow[] = [];
    await rig.relay(
      { batchSize: 10, workers: 1 },
      { published: (rows) => void published.push(...rows), failed: (rows) => void failed.push(...rows) },
    );

    await until(() => Promise.resolve(failed.some((r) => r.message_id === unroutable)));
    expect(published.map((r) => r.message_id)).toContain(routable);
    expect(published.map((r) => r.message_id)).not.toContain(unroutable);

    const rows = await rig.dataSource.query<
      {
        message_id: string;
        publish_attempts: number;
        last_error: string;
        lease_until: Date | null;
        deferred: boolean;
      }[]
    >(
      `SELECT message_id, publish_attempts, last_error, lease_until,
              available_at > clock_timestamp() AS deferred
       FROM outbox_messages WHERE message_id = ANY($1::uuid[])`,
      [[unroutable, routable]],
    );
    expect(rows).toEqual([
      {
        message_id: unroutable,
        publish_attempts: 1,
        last_error: 'unroutable: no queue is bound for this routing key',
        lease_until: null,
        deferred: true,
      },
    ]);
  });
});
