// The warehouse against the real process, its database and the broker: stock levels over REST (validation, 404,
// 409), and the saga's stock commands (reserve all or nothing, re-sent commands, release, pick), down to many orders
// racing for the last units of one SKU. The stock endpoints are an operator's: every call sends the operator token.
import { randomUUID } from 'node:crypto';
import { type MessageType, PickStock, ReleaseStock, ReserveStock } from '@orderflow/contracts';
import {
  amqpProperties,
  type BrokerConnection,
  DEAD_LETTER_HEADERS,
  deadLetterQueueOf,
  encode,
  envelope,
  EXCHANGES,
} from '@orderflow/messaging';
import { asOperator, connectAdminBroker, connectBrokerAs, ServiceProcess, waitFor } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const service = new ServiceProcess('warehouse');
let admin: BrokerConnection;
/** The saga's broker user: the only sender the warehouse takes its commands from. */
let saga: BrokerConnection;

const COMMANDS_DLQ = deadLetterQueueOf('warehouse.commands');

interface Taken {
  type: string;
  subject: string;
  data: Record<string, unknown>;
  headers: Record<string, unknown>;
}

const freshSku = () => `SKU-${randomUUID()}`;

async function put(sku: string, body: unknown) {
  const res = await fetch(`${service.url}/stock/${sku}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

async function get(sku: string) {
  const res = await fetch(`${service.url}/stock/${sku}`, { headers: asOperator() });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** Sends a command as the saga would; `data` is not validated here, so tests can send what the saga never would. */
async function sendAll(messages: { type: MessageType; orderId: string; data: unknown }[]): Promise<void> {
  const channel = await saga.confirmChannel();
  try {
    for (const { type, orderId, data } of messages) {
      const event = envelope(type, orderId, data, { service: 'saga', correlationId: orderId });
      channel.publish(EXCHANGES.commands, type.type, encode(event), {
        ...amqpProperties(event, 'saga'),
        userId: saga.user,
      });
    }
    await channel.waitForConfirms();
  } finally {
    await channel.close();
  }
}

const send = (type: MessageType, orderId: string, data: unknown) => sendAll([{ type, orderId, data }]);

/** Takes from `queue` the messages about these orders (others go back), as the saga would receive them. */
async function takeMessagesAbout(queue: string, orderIds: ReadonlySet<string>): Promise<Taken[]> {
  const channel = await admin.channel();
  const found: Taken[] = [];
  try {
    for (;;) {
      const msg = await channel.get(queue, { noAck: false });
      if (!msg) break;
      const body = JSON.parse(msg.content.toString()) as Omit<Taken, 'headers'>;
      if (orderIds.has(body.subject)) {
        found.push({ ...body, headers: msg.properties.headers ?? {} });
        channel.ack(msg);
      }
    }
    channel.nackAll(true);
  } finally {
    await channel.close();
  }
  return found;
}

/** Waits until `count` messages about these orders have arrived on `queue`, and returns them. */
async function waitForMessages(queue: string, orderIds: string[], count = orderIds.length): Promise<Taken[]> {
  const ids = new Set(orderIds);
  const taken: Taken[] = [];
  return waitFor(
    async () => {
      taken.push(...(await takeMessagesAbout(queue, ids)));
      return taken.length >= count && taken;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `${count} message(s) on ${queue}` },
  );
}

async function outcomeOf(orderId: string): Promise<Taken> {
  const [event] = await waitForMessages('saga.events', [orderId]);
  return event;
}

async function levelsOf(sku: string) {
  return (await get(sku)).body;
}

beforeAll(async () => {
  admin = await connectAdminBroker('e2e@warehouse');
  saga = await connectBrokerAs('saga', 'e2e@warehouse-saga');
  await service.start().waitReady();
});

afterAll(async () => {
  await service.stop();
  await admin.close();
  await saga.close();
});

describe('PUT and GET /stock/{sku}', () => {
  it('records a new SKU, counts it again, and shows what is available', async () => {
    const sku = freshSku();
    const created = await put(sku, { onHand: 10 });
    expect(created.res.status).toBe(200);
    expect(created.body).toEqual({ sku, onHand: 10, reserved: 0, available: 10 });
    expect((await put(sku, { onHand: 4 })).body).toEqual({ sku, onHand: 4, reserved: 0, available: 4 });
    const read = await get(sku);
    expect(read.res.status).toBe(200);
    expect(read.body).toEqual({ sku, onHand: 4, reserved: 0, available: 4 });
  });

  it('refuses an invalid count with a reason per field', async () => {
    const sku = freshSku();
    for (const body of [{ onHand: -1 }, { onHand: 1.5 }, { onHand: '10' }, { onHand: 1_000_000_001 }, {}]) {
      const { res, body: problem } = await put(sku, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((problem.errors as { field: string }[]).map((e) => e.field)).toContain('onHand');
    }
    const extra = await put(sku, { onHand: 1, reserved: 5 });
    expect(extra.res.status).toBe(400);
    expect((extra.body.errors as { field: string }[]).map((e) => e.field)).toEqual(['reserved']);
    expect((await get(sku)).res.status).toBe(404);
  });

  it('refuses a malformed SKU', async () => {
    for (const sku of ['-leading-dash', 'has%20space', 'x'.repeat(65), 'semi%3Bcolon']) {
      const written = await put(sku, { onHand: 1 });
      expect(written.res.status, sku).toBe(400);
      expect(written.body).toMatchObject({ status: 400, errors: [{ field: 'sku' }] });
      expect((await get(sku)).res.status, sku).toBe(400);
    }
  });

  it('answers 404 for a SKU it never counted', async () => {
    const { res, body } = await get(freshSku());
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('answers 409 to a count below what is reserved for orders, and keeps the stock', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    await send(ReserveStock, orderId, { orderId, items: [{ sku, quantity: 3 }] });
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-reserved.v1');
    const { res, body } = await put(sku, { onHand: 2 });
    expect(res.status).toBe(409);
    expect(body).toMatchObject({ status: 409, title: 'Conflict' });
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 5, reserved: 3, available: 2 });
    expect((await put(sku, { onHand: 3 })).body).toEqual({ sku, onHand: 3, reserved: 3, available: 0 });
  });
});

describe('reserving stock for an order', () => {
  it('reserves every line, a SKU named twice counted once per line', async () => {
    const [chair, desk] = [freshSku(), freshSku()];
    await put(chair, { onHand: 10 });
    await put(desk, { onHand: 2 });
    const orderId = randomUUID();
    const items = [
      { sku: chair, quantity: 2 },
      { sku: desk, quantity: 2 },
      { sku: chair, quantity: 1 },
    ];
    await send(ReserveStock, orderId, { orderId, items });
    expect(await outcomeOf(orderId)).toMatchObject({
      type: 'warehouse.stock-reserved.v1',
      subject: orderId,
      data: { orderId },
    });
    expect(await levelsOf(chair)).toEqual({ sku: chair, onHand: 10, reserved: 3, available: 7 });
    expect(await levelsOf(desk)).toEqual({ sku: desk, onHand: 2, reserved: 2, available: 0 });
  });

  it('reserves nothing when a line is short or unknown, and names those SKUs', async () => {
    const [plenty, scarce, unknown] = [freshSku(), freshSku(), freshSku()];
    await put(plenty, { onHand: 10 });
    await put(scarce, { onHand: 1 });
    const orderId = randomUUID();
    await send(ReserveStock, orderId, {
      orderId,
      items: [
        { sku: plenty, quantity: 5 },
        { sku: scarce, quantity: 2 },
        { sku: unknown, quantity: 1 },
      ],
    });
    const event = await outcomeOf(orderId);
    expect(event.type).toBe('warehouse.stock-unavailable.v1');
    expect(new Set(event.data.skus as string[])).toEqual(new Set([scarce, unknown]));
    expect(await levelsOf(plenty)).toMatchObject({ reserved: 0, available: 10 });
    expect(await levelsOf(scarce)).toMatchObject({ reserved: 0, available: 1 });
    expect((await get(unknown)).res.status).toBe(404);
  });

  it('answers a re-sent command the same way, and reserves only once', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    const command = { orderId, items: [{ sku, quantity: 2 }] };
    await send(ReserveStock, orderId, command);
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-reserved.v1');
    await send(ReserveStock, orderId, command);
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-reserved.v1');
    expect(await levelsOf(sku)).toMatchObject({ onHand: 5, reserved: 2 });
  });

  it('keeps a refusal: a re-sent command is refused even once stock has arrived', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 1 });
    const orderId = randomUUID();
    const command = { orderId, items: [{ sku, quantity: 2 }] };
    await send(ReserveStock, orderId, command);
    expect(await outcomeOf(orderId)).toMatchObject({ type: 'warehouse.stock-unavailable.v1', data: { skus: [sku] } });
    await put(sku, { onHand: 10 });
    await send(ReserveStock, orderId, command);
    expect(await outcomeOf(orderId)).toMatchObject({ type: 'warehouse.stock-unavailable.v1', data: { skus: [sku] } });
    expect(await levelsOf(sku)).toMatchObject({ onHand: 10, reserved: 0 });
  });

  it('dead-letters a command its schema refuses, and reserves nothing', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    await send(ReserveStock, orderId, { orderId, items: [{ sku, quantity: 0 }] });
    const [dead] = await waitForMessages(COMMANDS_DLQ, [orderId]);
    expect(dead.headers[DEAD_LETTER_HEADERS.reason]).toBe('undeliverable');
    expect(await takeMessagesAbout('saga.events', new Set([orderId]))).toEqual([]);
    expect(await levelsOf(sku)).toMatchObject({ reserved: 0 });
  });

  it('never promises more than there is: 40 orders race for 10 units', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 10 });
    const orderIds = Array.from({ length: 40 }, () => randomUUID());
    await sendAll(
      orderIds.map((orderId) => ({ type: ReserveStock, orderId, data: { orderId, items: [{ sku, quantity: 1 }] } })),
    );
    const events = await waitForMessages('saga.events', orderIds);
    expect(new Set(events.map((e) => e.subject)).size).toBe(40);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(count('warehouse.stock-reserved.v1')).toBe(10);
    expect(count('warehouse.stock-unavailable.v1')).toBe(30);
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 10, reserved: 10, available: 0 });
  });
});

describe('releasing an order’s stock', () => {
  it('gives the reservation back, and acknowledges every release', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    await send(ReserveStock, orderId, { orderId, items: [{ sku, quantity: 4 }] });
    await outcomeOf(orderId);
    await send(ReleaseStock, orderId, { orderId, reason: 'payment declined' });
    expect(await outcomeOf(orderId)).toMatchObject({ type: 'warehouse.stock-released.v1', data: { orderId } });
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 5, reserved: 0, available: 5 });
    await send(ReleaseStock, orderId, { orderId, reason: 'payment declined' });
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-released.v1');
    expect(await levelsOf(sku)).toMatchObject({ reserved: 0 });
  });

  it('acknowledges a release that comes first, and then turns the late reserve away', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    await send(ReleaseStock, orderId, { orderId, reason: 'timed out' });
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-released.v1');
    await send(ReserveStock, orderId, { orderId, items: [{ sku, quantity: 1 }] });
    expect(await outcomeOf(orderId)).toMatchObject({ type: 'warehouse.stock-unavailable.v1', data: { skus: [sku] } });
    expect(await levelsOf(sku)).toMatchObject({ reserved: 0 });
  });
});

describe('picking an order’s stock', () => {
  it('takes the reserved goods off the shelf, once', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const orderId = randomUUID();
    await send(ReserveStock, orderId, { orderId, items: [{ sku, quantity: 2 }] });
    await outcomeOf(orderId);
    await send(PickStock, orderId, { orderId });
    expect(await outcomeOf(orderId)).toMatchObject({ type: 'warehouse.stock-picked.v1', data: { orderId } });
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 3, reserved: 0, available: 3 });
    await send(PickStock, orderId, { orderId });
    expect((await outcomeOf(orderId)).type).toBe('warehouse.stock-picked.v1');
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 3, reserved: 0, available: 3 });
  });

  it('dead-letters a release after the pick, and a pick of nothing: the goods cannot come back', async () => {
    const sku = freshSku();
    await put(sku, { onHand: 5 });
    const picked = randomUUID();
    await send(ReserveStock, picked, { orderId: picked, items: [{ sku, quantity: 2 }] });
    await outcomeOf(picked);
    await send(PickStock, picked, { orderId: picked });
    await outcomeOf(picked);
    const neverReserved = randomUUID();
    await send(ReleaseStock, picked, { orderId: picked, reason: 'customer cancelled' });
    await send(PickStock, neverReserved, { orderId: neverReserved });
    const dead = await waitForMessages(COMMANDS_DLQ, [picked, neverReserved]);
    expect(dead.map((d) => [d.type, d.headers[DEAD_LETTER_HEADERS.reason]]).sort()).toEqual([
      ['warehouse.pick-stock.v1', 'permanent-error'],
      ['warehouse.release-stock.v1', 'permanent-error'],
    ]);
    expect(await takeMessagesAbout('saga.events', new Set([picked, neverReserved]))).toEqual([]);
    expect(await levelsOf(sku)).toEqual({ sku, onHand: 3, reserved: 0, available: 3 });
  });
});
