// Messages a service does not own, put on the broker by a user that may publish anything (the administrator): the
// broker's permissions refuse them from any service's user (broker-permissions.int-spec.ts); this proves that if one
// got through all the same, its consumer would dead-letter it, unhandled, with the reason — and that the owner's own
// messages still flow. ADR 0016.
import { PaymentAuthorized, RefundPayment, VoidPayment, type MessageType } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope, EXCHANGES, exchangeFor } from '@orderflow/messaging';
import {
  asOperator,
  connectAdminBroker,
  connectBrokerAs,
  RabbitMqManagement,
  ServiceProcess,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const payment = new ServiceProcess('payment');
const saga = new ServiceProcess('saga');
const management = new RabbitMqManagement();
let admin: BrokerConnection;
let sagaUser: BrokerConnection;

type DeadLetter = { correlationId?: string; reason?: string; error?: string };

/** Publishes one message of this type for the order, over the given connection, through the given exchange. */
async function send(
  over: BrokerConnection,
  type: MessageType,
  orderId: string,
  data: unknown,
  route: { exchange: string; routingKey: string } = { exchange: exchangeFor(type), routingKey: type.type },
): Promise<void> {
  const sender = type.kind === 'command' ? 'saga' : type.domain;
  const event = envelope(type, orderId, data, { service: sender, correlationId: orderId });
  const channel = await over.confirmChannel();
  channel.publish(route.exchange, route.routingKey, encode(event), {
    ...amqpProperties(event, sender),
    userId: over.user,
  });
  await channel.waitForConfirms();
  await channel.close();
}

async function deadLetterOf(service: ServiceProcess, queue: string, orderId: string): Promise<DeadLetter> {
  return waitFor(
    async () => {
      const res = await fetch(`${service.url}/dead-letters/${queue}?limit=500`, { headers: asOperator() });
      return ((await res.json()) as DeadLetter[]).find((l) => l.correlationId === orderId);
    },
    { what: `the message of order ${orderId} in ${queue}.dlq`, timeoutMs: 20_000 },
  );
}

beforeAll(async () => {
  admin = await connectAdminBroker('e2e@forged-messages');
  sagaUser = await connectBrokerAs('saga', 'e2e@forged-messages-saga');
  for (const queue of ['payment.commands', 'payment.commands.dlq', 'saga.events.dlq']) {
    await management.delete(`/queues/orderflow/${queue}/contents`);
  }
  await Promise.all([payment.start().waitReady(), saga.start().waitReady()]);
});

afterAll(async () => {
  await Promise.all([payment.stop(), saga.stop()]);
  for (const queue of ['payment.commands', 'payment.commands.dlq', 'saga.events.dlq', 'saga.events']) {
    await management.delete(`/queues/orderflow/${queue}/contents`);
  }
  await admin?.close();
  await sagaUser?.close();
});

describe('a message its owner did not send', () => {
  it('is dead-lettered by the saga, unhandled: a payment authorisation not from the payment service', async () => {
    const orderId = crypto.randomUUID();
    await send(admin, PaymentAuthorized, orderId, {
      orderId,
      paymentId: crypto.randomUUID(),
      amount: 1200,
      currency: 'EUR',
    });
    const letter = await deadLetterOf(saga, 'saga.events', orderId);
    expect(letter.reason).toBe('wrong-publisher');
    expect(letter.error).toMatch(
      /payment\.authorized\.v1 sent by broker user '.+' through orderflow\.events; only 'payment' may/,
    );
    const res = await fetch(`${saga.url}/sagas/${orderId}`, { headers: asOperator() });
    expect(res.status).toBe(404);
  });

  it('is dead-lettered by the payment service, unhandled: a refund put into its queue by way of a retry', async () => {
    const orderId = crypto.randomUUID();
    await send(
      admin,
      RefundPayment,
      orderId,
      { orderId, reason: 'forged' },
      {
        exchange: EXCHANGES.retry,
        routingKey: 'payment.commands',
      },
    );
    const letter = await deadLetterOf(payment, 'payment.commands', orderId);
    expect(letter.reason).toBe('wrong-publisher');
    expect(letter.error).toMatch(
      /payment\.refund\.v1 sent by broker user '.+' through orderflow\.retry; only 'payment' may/,
    );
  });

  it('while the same command from its owner, the saga, is handled', async () => {
    const forged = crypto.randomUUID();
    const owned = crypto.randomUUID();
    await send(admin, VoidPayment, forged, { orderId: forged, reason: 'forged' });
    await send(sagaUser, VoidPayment, owned, { orderId: owned, reason: 'from the saga' });
    expect((await deadLetterOf(payment, 'payment.commands', forged)).reason).toBe('wrong-publisher');
    // Handled: out of the queue and not a dead letter.
    await waitFor(
      async () =>
        ((await management.get<{ messages?: number }>('/queues/orderflow/payment.commands')).messages ?? 0) === 0,
      { what: 'payment.commands to be empty' },
    );
    const res = await fetch(`${payment.url}/dead-letters/payment.commands?limit=500`, { headers: asOperator() });
    expect(((await res.json()) as DeadLetter[]).some((l) => l.correlationId === owned)).toBe(false);
  });
});
