// Malformed messages on every queue of every service: not JSON, not a CloudEvent, an unknown type, a known type with
// data its schema refuses, no body, a huge one. Each must end in its queue's dead-letter queue with a reason, and
// nothing else may happen: no inbox record. (The consumer writes a handler's effects only in the transaction that
// records the message in the inbox, so a message with no inbox record had no effect. Whole-database row counts would
// say the same on a quiet suite, but earlier tests' orders may still be in flight here.) They are put on each queue the
// way a broken or hostile client would, as the broker's administrator through orderflow.retry.
import { randomUUID } from 'node:crypto';
import { ORDERFLOW_ROUTING } from '@orderflow/contracts';
import { type BrokerConnection, EXCHANGES } from '@orderflow/messaging';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import {
  asOperator,
  connectAdminBroker,
  RabbitMqManagement,
  ServiceProcess,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const services = Object.fromEntries(SERVICE_NAMES.map((name) => [name, new ServiceProcess(name)])) as Record<
  ServiceName,
  ServiceProcess
>;
let admin: BrokerConnection;
const run = randomUUID();

type DeadLetter = { messageId?: string; reason?: string; error?: string };

/** One queue's malformed messages: what each is, and its body. */
function malformed(queue: (typeof ORDERFLOW_ROUTING.queues)[number]): { what: string; body: Buffer }[] {
  const [receivable] = queue.receives;
  const envelope = (type: string, data: unknown) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:orderflow:test',
    type,
    subject: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  });
  return [
    { what: 'not JSON', body: Buffer.from('{not json') },
    { what: 'no body', body: Buffer.alloc(0) },
    { what: 'JSON, not a CloudEvent', body: Buffer.from(JSON.stringify({ hello: 'world' })) },
    {
      what: 'a CloudEvent without an id',
      body: Buffer.from(JSON.stringify({ ...envelope(receivable.type, {}), id: undefined })),
    },
    { what: 'an unknown type', body: Buffer.from(JSON.stringify(envelope('orderflow.unknown.v1', {}))) },
    {
      what: `${receivable.type} with data its schema refuses`,
      body: Buffer.from(JSON.stringify(envelope(receivable.type, { orderId: 'not-a-uuid', extra: '\u0000' }))),
    },
    { what: 'a 1 MB body', body: Buffer.from(JSON.stringify({ padding: 'x'.repeat(1_000_000) })) },
    { what: 'invalid UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  ];
}

async function inboxHas(service: ServiceName, messageIds: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: testEnvironment.databaseUrl(service) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM inbox_messages WHERE message_id::text = ANY($1::text[])',
      [messageIds],
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  admin = await connectAdminBroker('e2e@malformed-messages');
  // Earlier tests' dead letters would crowd the listings this test reads.
  const management = new RabbitMqManagement();
  for (const queue of ORDERFLOW_ROUTING.queues) {
    await management.delete(`/queues/orderflow/${queue.name}.dlq/contents`);
  }
  await Promise.all(Object.values(services).map((s) => s.start().waitReady()));
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.stop()));
  // What this test dead-lettered is poison to the next test that reads a dead-letter queue as JSON.
  const management = new RabbitMqManagement();
  for (const queue of ORDERFLOW_ROUTING.queues) {
    await management.delete(`/queues/orderflow/${queue.name}.dlq/contents`);
  }
  await admin?.close();
});

describe('a malformed message on any queue', () => {
  it.each(ORDERFLOW_ROUTING.queues.map((q) => [q.name, q]))(
    'on %s is dead-lettered with a reason, and handled by nothing',
    async (_name, queue) => {
      const service = queue.service as ServiceName;
      const messages = malformed(queue).map((m) => ({ ...m, messageId: randomUUID() }));
      const channel = await admin.confirmChannel();
      for (const { body, messageId } of messages) {
        channel.publish(EXCHANGES.retry, queue.name, body, { persistent: true, messageId, correlationId: run });
      }
      await channel.waitForConfirms();
      await channel.close();

      const ids = new Set<string>(messages.map((m) => m.messageId));
      const letters = await waitFor(
        async () => {
          const res = await fetch(`${services[service].url}/dead-letters/${queue.name}?limit=500`, {
            headers: asOperator(),
          });
          const found = ((await res.json()) as DeadLetter[]).filter((l) => ids.has(l.messageId ?? ''));
          return found.length === messages.length && found;
        },
        { what: `${messages.length} dead letters in ${queue.name}.dlq`, timeoutMs: 30_000 },
      );
      for (const letter of letters) {
        const what = messages.find((m) => m.messageId === letter.messageId)!.what;
        expect(letter.reason, what).toMatch(/^(undeliverable|wrong-publisher)$/);
        expect(letter.error, what).toBeTruthy();
      }
      expect(await inboxHas(service, [...ids])).toBe(0);
    },
    60_000,
  );
});
