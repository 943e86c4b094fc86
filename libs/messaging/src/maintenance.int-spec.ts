// The messaging core's housekeeping against real infrastructure: the start-up topology check, pruning, and a
// delayed retry that outlives the process that scheduled it.
import { StockReserved } from '@orderflow/contracts';
import {
  MessagingRig,
  poolOf,
  produceOrders,
  recordEffect,
  RIG_QUEUE,
  RIG_ROUTING,
  RIG_SERVICE,
  waitFor,
} from '@orderflow/testing';
import type { ChannelModel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxPruner } from './outbox/outbox-pruner.js';
import { checkTopology, TopologyMismatch } from './topology/topology-check.js';
import { buildTopology } from './topology/topology.js';

let rig: MessagingRig;
beforeEach(async () => {
  rig = await MessagingRig.create();
});
afterEach(async () => {
  await rig.dispose();
});

describe('the start-up topology check', () => {
  it('passes on the imported topology and names what is missing otherwise', async () => {
    const broker = await rig.broker();
    let model: ChannelModel | undefined;
    await broker.onConnected(async (m) => {
      model = m;
      await Promise.resolve();
    });
    const topology = buildTopology(RIG_ROUTING, { vhost: rig.env.vhost });
    await expect(checkTopology(model!, topology, RIG_SERVICE)).resolves.toBeUndefined();

    await rig.management.delete(`/queues/${rig.env.vhost}/${RIG_QUEUE}.dlq`);
    const failure = await checkTopology(model!, topology, RIG_SERVICE).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TopologyMismatch);
    expect((failure as TopologyMismatch).missing).toEqual([`queue ${RIG_QUEUE}.dlq`]);
  });
});

describe('pruning', () => {
  it('has no sent outbox rows to remove by default: the relay deletes each row once the broker confirms it', async () => {
    const relay = await rig.relay();
    await rig.consumer({}, () => relay.wake());
    const orderIds = await produceOrders(rig.messaging(relay), 30);
    await waitFor(async () => (await rig.count('SELECT count(*) AS n FROM effects')) === orderIds.length, {
      what: 'every effect',
    });
    await waitFor(async () => (await rig.count('SELECT count(*) AS n FROM outbox_messages')) === 0, {
      what: 'every confirmed outbox row deleted',
    });
    expect(await rig.count('SELECT count(*) AS n FROM inbox_messages')).toBe(30);
  });

  it('removes only sent outbox rows (kept by keepSent) and inbox records past their retention', async () => {
    const relay = await rig.relay({ keepSent: true });
    await rig.consumer({}, () => relay.wake());
    const orderIds = await produceOrders(rig.messaging(relay), 30);
    await waitFor(async () => (await rig.count('SELECT count(*) AS n FROM effects')) === orderIds.length, {
      what: 'every effect',
    });
    // Age half of everything past retention; the rest stays young.
    await rig.dataSource.query(
      `UPDATE outbox_messages SET sent_at = now() - interval '2 days' WHERE id IN (SELECT id FROM outbox_messages ORDER BY id LIMIT 15)`,
    );
    await rig.dataSource.query(
      `UPDATE inbox_messages SET received_at = now() - interval '10 days' WHERE message_id IN (SELECT message_id FROM inbox_messages ORDER BY message_id LIMIT 15)`,
    );
    const unsent = await rig.dataSource.query<unknown[]>(
      `INSERT INTO outbox_messages (message_id, exchange, routing_key, properties, body, created_at, available_at)
       VALUES (gen_random_uuid(), 'orderflow.events', 'x', '{}', '\\x00', now() - interval '3 days', now() + interval '1 hour') RETURNING id`,
    );
    expect(unsent).toHaveLength(1);

    const pruner = new OutboxPruner(
      poolOf(rig.dataSource),
      { outboxRetentionMs: 86_400_000, inboxRetentionMs: 7 * 86_400_000, batchSize: 4, intervalMs: 60_000 },
      (err) => {
        throw err;
      },
    );
    expect(await pruner.pruneOnce()).toEqual({ outbox: 15, inbox: 15 });
    expect(await rig.count('SELECT count(*) AS n FROM outbox_messages')).toBe(16);
    expect(await rig.count('SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL')).toBe(1);
    expect(await rig.count('SELECT count(*) AS n FROM inbox_messages')).toBe(15);
    expect(await pruner.pruneOnce()).toEqual({ outbox: 0, inbox: 0 });
  });
});

describe('a delayed retry', () => {
  it('survives the restart of the process that scheduled it', async () => {
    const firstRelay = await rig.relay();
    let failing = true;
    const first = await rig.consumer(
      {
        handler: async (message, uow) => {
          if (failing) throw new Error('warehouse database is being failed over');
          await recordEffect(message, uow);
        },
        retry: { maxAttempts: 3, baseDelayMs: 3_000, maxDelayMs: 3_000 },
      },
      () => firstRelay.wake(),
    );
    const [orderId] = await produceOrders(rig.messaging(firstRelay), 1, [StockReserved]);
    await waitFor(
      async () =>
        (await rig.count(
          `SELECT count(*) AS n FROM outbox_messages WHERE exchange = 'orderflow.retry' AND sent_at IS NULL`,
        )) === 1,
      { what: 'a scheduled retry' },
    );
    // The "process" stops: its consumer and relay are gone; only the database remembers the retry.
    await first.stop();
    await firstRelay.stop();
    failing = false;

    const relay = await rig.relay();
    await rig.consumer({}, () => relay.wake());
    await waitFor(
      async () => (await rig.count(`SELECT count(*) AS n FROM effects WHERE order_id = '${orderId}'`)) === 1,
      {
        timeoutMs: 20_000,
        what: 'the retried message to take effect',
      },
    );
    expect(await rig.count(`SELECT max(attempt) AS n FROM effects`)).toBe(2);
  });
});
