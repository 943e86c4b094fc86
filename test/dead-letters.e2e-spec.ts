// An operator's dead-letter tools against a running service: the HTTP endpoints and the CLI list what sits in a
// service's dead-letter queue and replay it to the queue it came from. The HTTP endpoints take the operator token.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { VoidPayment } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope } from '@orderflow/messaging';
import {
  asOperator,
  connectAdminBroker,
  RabbitMqManagement,
  ServiceProcess,
  testEnvironment,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const payment = new ServiceProcess('payment');
const management = new RabbitMqManagement();
let admin: BrokerConnection;

/** A dead letter the payment service can handle once replayed: voiding an order's (absent) payment. */
async function deadLetter(): Promise<{ id: string; orderId: string }> {
  const orderId = crypto.randomUUID();
  const event = envelope(
    VoidPayment,
    orderId,
    { orderId, reason: 'operator test' },
    { service: 'saga', correlationId: orderId },
  );
  const channel = await admin.confirmChannel();
  const properties = amqpProperties(event, 'saga');
  properties.headers = {
    ...(properties.headers as Record<string, unknown>),
    'x-orderflow-dead-letter-reason': 'permanent-error',
    'x-orderflow-error': 'PermanentError: test',
  };
  channel.publish('orderflow.dead-letters', 'payment.commands', encode(event), properties);
  await channel.waitForConfirms();
  await channel.close();
  return { id: event.id, orderId };
}

/** GET from the payment service, as an operator. */
const get = (path: string) => fetch(`${payment.url}${path}`, { headers: asOperator() });

async function paymentsOf(orderId: string): Promise<{ status: string }[]> {
  return (await (await get(`/payments?orderId=${orderId}`)).json()) as { status: string }[];
}

const depth = async (queue: string) =>
  (await management.get<{ messages?: number }>(`/queues/orderflow/${queue}`)).messages ?? 0;

beforeAll(async () => {
  admin = await connectAdminBroker('e2e@dead-letters');
  await management.delete('/queues/orderflow/payment.commands.dlq/contents');
  await management.delete('/queues/orderflow/payment.commands/contents');
  await payment.start().waitReady();
});

afterAll(async () => {
  await payment.stop();
  await management.delete('/queues/orderflow/payment.commands/contents');
  await admin.close();
});

describe('dead letters over HTTP', () => {
  it('lists a dead letter with its reason and replays it to its queue, where it is handled', async () => {
    const { id, orderId } = await deadLetter();
    await waitFor(async () => (await depth('payment.commands.dlq')) === 1, {
      what: 'the dead letter',
      intervalMs: 500,
    });

    const summary = (await (await get('/dead-letters')).json()) as {
      queue: string;
      messages: number;
    }[];
    expect(summary).toEqual([{ queue: 'payment.commands', deadLetterQueue: 'payment.commands.dlq', messages: 1 }]);
    const listed = (await (await get('/dead-letters/payment.commands')).json()) as {
      messageId: string;
      reason: string;
    }[];
    expect(listed).toMatchObject([{ messageId: id, reason: 'permanent-error', type: VoidPayment.type }]);

    const res = await fetch(`${payment.url}/dead-letters/payment.commands/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asOperator() },
      body: JSON.stringify({ messageIds: [id] }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ queue: 'payment.commands', replayed: 1, messageIds: [id] });
    await waitFor(async () => (await paymentsOf(orderId))[0]?.status === 'VOIDED', {
      what: 'the replayed void to be handled',
      intervalMs: 300,
    });
    await waitFor(async () => (await depth('payment.commands.dlq')) === 0, { what: 'an empty DLQ', intervalMs: 500 });
  });

  it('refuses a queue the service does not own, and a malformed replay request', async () => {
    expect((await get('/dead-letters/saga.events')).status).toBe(404);
    const res = await fetch(`${payment.url}/dead-letters/payment.commands/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asOperator() },
      body: JSON.stringify({ messageIds: ['nope'], limit: 0 }),
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['limit', 'messageIds']);
  });
});

describe('dead letters with the CLI', () => {
  it('lists and replays as the service’s own broker user', async () => {
    await management.delete('/queues/orderflow/payment.commands/contents');
    const { id, orderId } = await deadLetter();
    await waitFor(async () => (await depth('payment.commands.dlq')) === 1, {
      what: 'the dead letter',
      intervalMs: 500,
    });
    const run = (...args: string[]) =>
      promisify(execFile)('bash', [`${ROOT}scripts/dead-letters.sh`, 'payment', ...args], {
        env: { ...process.env, ORDERFLOW_PROFILE: 'test', AMQP_URL: testEnvironment.amqpUrl('payment') },
      });
    const listed = await run('list', 'payment.commands');
    expect(JSON.parse(listed.stdout)).toMatchObject([{ messageId: id, reason: 'permanent-error' }]);
    const replayed = await run('replay', 'payment.commands', '--id', id);
    expect(replayed.stdout).toContain(`replayed 1 message(s) to payment.commands: ${id}`);
    await waitFor(async () => (await paymentsOf(orderId))[0]?.status === 'VOIDED', {
      what: 'the replayed void to be handled',
      intervalMs: 300,
    });
  });
});
