// The outbox lag signal against real PostgreSQL and the real outbox table: what counts as the relay being behind,
// and what does not (sent rows, delayed retries not yet due, rows held behind a stuck ordering key).
import { MessagingRig } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxLagSignal } from './outbox-lag.js';

let rig: MessagingRig;
beforeAll(async () => {
  rig = await MessagingRig.create();
});
afterAll(async () => {
  await rig.dispose();
});

/** An outbox row that became (or becomes) due `dueInSeconds` from now; negative is in the past. */
async function row(orderingKey: string, dueInSeconds: number, sent = false): Promise<void> {
  await rig.dataSource.query(
    `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body, available_at, sent_at)
     VALUES (gen_random_uuid(), 'orderflow.events', 'it.test.v1', $1, '{}', '\\x00',
             clock_timestamp() + $2 * interval '1 second', CASE WHEN $3 THEN clock_timestamp() END)`,
    [orderingKey, dueInSeconds, sent],
  );
}

describe('outboxLagSignal', () => {
  it('reads the age of the oldest row the relay could send now, and only that', async () => {
    const signal = outboxLagSignal((sql) => rig.dataSource.query(sql), 10);
    expect(signal).toMatchObject({ name: 'outbox_lag_seconds', unit: 's', bound: 10 });
    expect(await signal.read()).toBe(0);

    await row('sent', -600, true);
    await row('delayed', 300);
    expect(await signal.read()).toBe(0);

    // A row that just came back from a retry's backoff sits at the head; the rows behind it are what lags.
    await row('back-from-backoff', -0.1);
    await row('behind-1', -20);
    await row('behind-2', -15);
    const lag = await signal.read();
    expect(lag).toBeGreaterThanOrEqual(20);
    expect(lag).toBeLessThan(25);

    // One order's later message waits for its earlier one, itself waiting out a backoff: a stuck key, not lag.
    await row('stuck', 120);
    await row('stuck', -3_600);
    expect(await signal.read()).toBeLessThan(25);
  });
});
