// The logistics service against the real processes: the service, its database, the broker and the carrier simulator.
// Booking (created, not served, re-sent, carrier down and back), the intents to book that a process left behind
// (booked by the sweep of any replica, once), deliveries reported by the carrier's webhook (asked to come back while
// the booking is being recorded) and by the customer (once, however often and however concurrently reported), and
// the REST reads and their validation. The REST endpoints are an operator's (operator token); the test's own carrier
// reports are signed like the carrier's.
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateShipment, ShipmentCreated, ShipmentDelivered, ShipmentRejected } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope, exchangeFor } from '@orderflow/messaging';
import {
  asOperator,
  EventTap,
  freePort,
  ServiceProcess,
  signedWebhookHeaders,
  SimulatorProcess,
  type TappedEvent,
  testEnvironment,
  waitFor,
  webhookSecret,
  connectBrokerAs,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The saga's broker user: the only sender the logistics service takes its commands from. */
let saga: BrokerConnection;
let tap: EventTap;
let db: pg.Client;

const ADDRESS = { name: 'Ada Lovelace', line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH' };
const ITEMS = [
  { sku: 'SKU-CHAIR-01', quantity: 2 },
  { sku: 'SKU-DESK-01', quantity: 1 },
];

/** Sends the saga's command, and returns its message id. */
async function sendCreateShipment(orderId: string, country = 'GB'): Promise<string> {
  const command = envelope(
    CreateShipment,
    orderId,
    { orderId, address: { ...ADDRESS, country }, items: ITEMS },
    { service: 'saga', correlationId: orderId },
  );
  const channel = await saga.confirmChannel();
  channel.publish(exchangeFor(CreateShipment), CreateShipment.type, encode(command), {
    ...amqpProperties(command, 'saga'),
    userId: saga.user,
  });
  await channel.waitForConfirms();
  await channel.close();
  return command.id;
}

/**
 * An intent to book as the command's handler records it, written here instead: as if the process that recorded it
 * died before asking the carrier (due now or earlier), or is asking right now (due when its lease runs out).
 */
async function insertBookingIntent(
  orderId: string,
  { dueInMs = 0, correlationId = orderId, traceparent = null as string | null } = {},
): Promise<string> {
  const shipmentId = randomUUID();
  await db.query(
    `INSERT INTO shipments (id, order_id, status, booking_request, booking_due_at, correlation_id, traceparent)
     VALUES ($1, $2, 'BOOKING', $3, now() + $4::int * interval '1 millisecond', $5, $6)`,
    [
      shipmentId,
      orderId,
      JSON.stringify({ address: { ...ADDRESS, country: 'GB' }, parcels: ITEMS }),
      dueInMs,
      correlationId,
      traceparent,
    ],
  );
  return shipmentId;
}

/** Waits until `count` events about the order have been published, and returns them all, oldest first. */
async function eventsAbout(orderId: string, count = 1, timeoutMs = 10_000): Promise<TappedEvent[]> {
  return waitFor(
    () => {
      const found = tap.about(orderId);
      return found.length >= count && found;
    },
    { timeoutMs, what: `${count} event(s) about order ${orderId}` },
  );
}

/** Events about the order the service has committed to send: the outbox, where a duplicate would show first. */
async function outboxCount(orderId: string, type: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_messages WHERE ordering_key = $1 AND routing_key = $2',
    [orderId, type],
  );
  return rows[0].n;
}

/** The correlation id and traceparent of each such message in the outbox, oldest first. */
async function outboxContexts(
  orderId: string,
  type: string,
): Promise<{ correlationId: string; traceparent: string }[]> {
  const { rows } = await db.query<{ correlationId: string; traceparent: string }>(
    `SELECT properties->>'correlationId' AS "correlationId", properties->'headers'->>'traceparent' AS traceparent
     FROM outbox_messages WHERE ordering_key = $1 AND routing_key = $2 ORDER BY id`,
    [orderId, type],
  );
  return rows;
}

async function carrierShipmentIdOf(shipmentId: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('SELECT carrier_shipment_id AS id FROM shipments WHERE id = $1', [
    shipmentId,
  ]);
  return rows[0].id;
}

/** GET as an operator. */
const getAsOperator = (url: string) => fetch(url, { headers: asOperator() });

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  saga = await connectBrokerAs('saga', 'e2e@shipments');
  tap = await new EventTap().open([ShipmentCreated.type, ShipmentRejected.type, ShipmentDelivered.type]);
  db = new pg.Client({ connectionString: testEnvironment.databaseUrl('logistics') });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await tap?.close();
  await saga?.close();
});

describe('with the carrier up', () => {
  let carrier: SimulatorProcess;
  let service: ServiceProcess;

  beforeAll(async () => {
    // The carrier reports deliveries only when told to (its /deliver hook), so no test waits for a timer.
    carrier = await new SimulatorProcess('carrier', await freePort(), { DELIVERY_DELAY_MS: '0' }).start();
    // OUTBOX_RETENTION_HOURS keeps sent outbox rows, which outboxCount counts (by default they go on confirm).
    service = new ServiceProcess('logistics', {
      CARRIER_URL: carrier.url,
      PORT: String(await freePort()),
      OUTBOX_RETENTION_HOURS: '24',
    });
    await service.start().waitReady();
  });

  afterAll(async () => {
    await service?.stop();
    await carrier?.stop();
  });

  /** The simulator's log lines: one per request it answered, one per delivery report it made. */
  function carrierLog(): Record<string, unknown>[] {
    return carrier.output
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  const bookingsAskedFor = (orderId: string) =>
    carrierLog().filter((l) => l.method === 'POST' && l.path === '/v1/shipments' && l.idempotencyKey === orderId);

  const deliveryReports = (carrierShipmentId: string) =>
    carrierLog().filter((l) => l.message === 'delivery reported' && l.shipmentId === carrierShipmentId);

  async function bookedShipment(): Promise<{ orderId: string; shipmentId: string; carrierShipmentId: string }> {
    const orderId = randomUUID();
    await sendCreateShipment(orderId);
    const created = await tap.next(orderId, ShipmentCreated.type);
    const shipmentId = created.data.shipmentId as string;
    return { orderId, shipmentId, carrierShipmentId: await carrierShipmentIdOf(shipmentId) };
  }

  const getShipment = async (id: string) => json(await getAsOperator(`${service.url}/shipments/${id}`));

  const signFor = (id: string) =>
    fetch(`${service.url}/shipments/${id}/delivered`, { method: 'POST', headers: asOperator() });

  /** A report as the carrier makes it, signed with the carrier's secret. */
  const reportToWebhook = (body: unknown) => {
    const report = JSON.stringify(body);
    return fetch(`${service.url}/carrier/deliveries`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signedWebhookHeaders(webhookSecret('CARRIER_WEBHOOK_SECRET'), report),
      },
      body: report,
    });
  };

  describe('CreateShipment', () => {
    it('books the shipment with the carrier and tells the saga ShipmentCreated', async () => {
      const orderId = randomUUID();
      await sendCreateShipment(orderId);
      const events = await eventsAbout(orderId);
      expect(events).toMatchObject([
        { type: 'logistics.shipment-created.v1', subject: orderId, data: { orderId, trackingNumber: /^CS\d+SIM$/ } },
      ]);
      const { shipmentId, trackingNumber } = events[0].data;
      const listed = (await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))) as unknown;
      expect(listed).toEqual([
        { shipmentId, orderId, status: 'CREATED', trackingNumber, createdAt: expect.any(String) as string },
      ]);
      expect(await getShipment(shipmentId as string)).toEqual((listed as unknown[])[0]);
      expect(bookingsAskedFor(orderId)).toHaveLength(1);
    });

    it('tells the saga SHIPPING_UNAVAILABLE for a country the carrier does not serve, and records the refusal', async () => {
      const orderId = randomUUID();
      await sendCreateShipment(orderId, 'ZZ');
      expect(await eventsAbout(orderId)).toMatchObject([
        { type: 'logistics.shipment-rejected.v1', data: { orderId, code: 'SHIPPING_UNAVAILABLE' } },
      ]);
      const listed = (await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))) as unknown;
      expect(listed).toMatchObject([{ orderId, status: 'REJECTED', rejectionCode: 'SHIPPING_UNAVAILABLE' }]);
      expect((listed as Record<string, unknown>[])[0].trackingNumber).toBeUndefined();
    });

    it('answers a re-sent command with the same outcome, and books once', async () => {
      const orderId = randomUUID();
      await sendCreateShipment(orderId);
      const [first] = await eventsAbout(orderId);
      await sendCreateShipment(orderId);
      const [, again] = await eventsAbout(orderId, 2);
      expect(again).toMatchObject({ type: first.type, data: first.data });
      expect(bookingsAskedFor(orderId)).toHaveLength(1);
      expect(await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))).toHaveLength(1);

      const refused = randomUUID();
      await sendCreateShipment(refused, 'ZZ');
      await eventsAbout(refused);
      await sendCreateShipment(refused, 'ZZ');
      const answers = await eventsAbout(refused, 2);
      expect(answers.map((e) => e.data)).toEqual([answers[0].data, answers[0].data]);
      expect(answers[0]).toMatchObject({ data: { code: 'SHIPPING_UNAVAILABLE' } });
      expect(bookingsAskedFor(refused)).toHaveLength(1);
    });
  });

  describe('intents to book', () => {
    it('books an intent a process left behind when it died, and tells the saga once, in the command’s context', async () => {
      const orderId = randomUUID();
      const correlationId = randomUUID();
      const traceId = randomBytes(16).toString('hex');
      // Due a second ago: the lease of the process that claimed it has run out.
      const shipmentId = await insertBookingIntent(orderId, {
        dueInMs: -1_000,
        correlationId,
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      });
      const created = await tap.next(orderId, ShipmentCreated.type);
      expect(created.data).toEqual({
        orderId,
        shipmentId,
        trackingNumber: expect.stringMatching(/^CS\d+SIM$/) as string,
      });
      expect(await getShipment(shipmentId)).toMatchObject({
        status: 'CREATED',
        trackingNumber: created.data.trackingNumber,
      });
      expect(bookingsAskedFor(orderId)).toHaveLength(1);
      const [context] = await outboxContexts(orderId, ShipmentCreated.type);
      expect(context.correlationId).toBe(correlationId);
      expect(context.traceparent.split('-')[1]).toBe(traceId);

      // Another booking since: the booker has looked for due intents again, and found nothing more of this one.
      await bookedShipment();
      expect(await outboxCount(orderId, ShipmentCreated.type)).toBe(1);
      expect(tap.about(orderId)).toHaveLength(1);
      expect(bookingsAskedFor(orderId)).toHaveLength(1);
    });

    it('is shared by replicas: each intent booked once, each order told once', async () => {
      const replica = new ServiceProcess('logistics', {
        CARRIER_URL: carrier.url,
        PORT: String(await freePort()),
        OUTBOX_RETENTION_HOURS: '24',
      });
      try {
        await replica.start().waitReady();
        const orderIds = Array.from({ length: 40 }, () => randomUUID());
        for (const orderId of orderIds) await insertBookingIntent(orderId);
        await waitFor(() => orderIds.every((orderId) => tap.about(orderId, ShipmentCreated.type).length > 0), {
          timeoutMs: 20_000,
          what: 'a ShipmentCreated for each of 40 intents',
        });
        const asked = orderIds.map((orderId) => bookingsAskedFor(orderId).length);
        expect(asked, 'carrier calls per order').toEqual(orderIds.map(() => 1));
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox_messages WHERE ordering_key = ANY($1) AND routing_key = $2`,
          [orderIds, ShipmentCreated.type],
        );
        expect(rows[0].n).toBe(40);
      } finally {
        await replica.stop();
      }
    });

    it('answers a command re-sent while its booking is in progress once, when the booking is recorded', async () => {
      const orderId = randomUUID();
      // Claimed by a process asking the carrier right now: due again only when its lease runs out.
      const shipmentId = await insertBookingIntent(orderId, { dueInMs: 3_600_000 });
      const resent = await sendCreateShipment(orderId);
      await waitFor(
        async () =>
          (await db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [resent])).rowCount === 1 || undefined,
        { what: 'the re-sent command to be handled' },
      );
      expect(await outboxCount(orderId, ShipmentCreated.type)).toBe(0);
      const listed = (await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))) as unknown;
      expect(listed).toEqual([{ shipmentId, orderId, status: 'BOOKING', createdAt: expect.any(String) as string }]);

      await db.query('UPDATE shipments SET booking_due_at = now() WHERE id = $1', [shipmentId]);
      expect(await tap.next(orderId, ShipmentCreated.type)).toMatchObject({ data: { orderId, shipmentId } });
      await bookedShipment();
      expect(await outboxCount(orderId, ShipmentCreated.type)).toBe(1);
      expect(bookingsAskedFor(orderId)).toHaveLength(1);
    });
  });

  describe('delivery', () => {
    it('reported by the carrier: DELIVERED, and one ShipmentDelivered however often it is reported', async () => {
      const { orderId, shipmentId, carrierShipmentId } = await bookedShipment();
      for (let i = 0; i < 2; i += 1) {
        const res = await fetch(`${carrier.url}/v1/shipments/${carrierShipmentId}/deliver`, { method: 'POST' });
        expect(res.status).toBe(202);
      }
      await waitFor(() => deliveryReports(carrierShipmentId).length === 2, { what: 'both reports answered 200' });
      const shipment = await getShipment(shipmentId);
      expect(shipment).toMatchObject({ status: 'DELIVERED', deliveredBy: 'CARRIER' });
      expect(typeof shipment.deliveredAt).toBe('string');

      const delivered = await tap.next(orderId, ShipmentDelivered.type);
      expect(delivered).toMatchObject({
        type: ShipmentDelivered.type,
        data: { orderId, shipmentId, deliveredAt: shipment.deliveredAt },
      });
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(1);

      // The customer's signature afterwards changes nothing: the carrier's report stands.
      const signed = await signFor(shipmentId);
      expect(signed.status).toBe(200);
      expect(await json(signed)).toEqual(shipment);
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(1);
      expect(tap.about(orderId, ShipmentDelivered.type)).toHaveLength(1);
    });

    it('signed for by the customer: DELIVERED once; the carrier’s later report changes nothing', async () => {
      const { orderId, shipmentId, carrierShipmentId } = await bookedShipment();
      const first = await signFor(shipmentId);
      expect(first.status).toBe(200);
      const shipment = await json(first);
      expect(shipment).toMatchObject({ shipmentId, status: 'DELIVERED', deliveredBy: 'CUSTOMER' });
      const again = await signFor(shipmentId);
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual(shipment);

      await fetch(`${carrier.url}/v1/shipments/${carrierShipmentId}/deliver`, { method: 'POST' });
      await waitFor(() => deliveryReports(carrierShipmentId).length === 1, { what: 'the carrier’s report answered' });
      expect(await getShipment(shipmentId)).toEqual(shipment);

      expect(await tap.next(orderId, ShipmentDelivered.type)).toMatchObject({ data: { shipmentId } });
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(1);
      expect(tap.about(orderId, ShipmentDelivered.type)).toHaveLength(1);
    });

    it('reported by carrier and customer at the same moment: one ShipmentDelivered', async () => {
      const { orderId, shipmentId, carrierShipmentId } = await bookedShipment();
      const report = { shipmentId: carrierShipmentId, reference: orderId, deliveredAt: new Date().toISOString() };
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? signFor(shipmentId) : reportToWebhook(report))),
      );
      expect(answers.map((res) => res.status)).toEqual(Array.from({ length: 8 }, () => 200));
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(1);
      expect(await getShipment(shipmentId)).toMatchObject({ status: 'DELIVERED' });
    });

    it('refuses to deliver a shipment the carrier never booked (409) or one it does not know (404)', async () => {
      const orderId = randomUUID();
      await sendCreateShipment(orderId, 'ZZ');
      // Listed BOOKING first, while the carrier is being asked.
      const [rejected] = await waitFor(
        async () => {
          const listed = (await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))) as unknown;
          const shipments = listed as { shipmentId: string; status: string }[];
          return shipments[0]?.status === 'REJECTED' && shipments;
        },
        { what: 'the rejected shipment' },
      );
      const res = await signFor(rejected.shipmentId);
      expect(res.status).toBe(409);
      expect(await json(res)).toMatchObject({ status: 409, detail: 'a shipment that is REJECTED cannot be delivered' });
      expect((await signFor(randomUUID())).status).toBe(404);
      expect((await signFor('not-a-uuid')).status).toBe(400);
    });
  });

  describe('POST /carrier/deliveries', () => {
    it('refuses a malformed report with a reason per field', async () => {
      const res = await reportToWebhook({ shipmentId: '', reference: 'nope', deliveredAt: '2026-01-31', extra: 1 });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const fields = ((await json(res)).errors as { field: string }[]).map((e) => e.field);
      expect(new Set(fields)).toEqual(new Set(['shipmentId', 'reference', 'deliveredAt', 'extra']));
    });

    it('answers 404 for a shipment it does not know, so the carrier tries again later', async () => {
      const res = await reportToWebhook({
        shipmentId: randomUUID(),
        reference: randomUUID(),
        deliveredAt: new Date().toISOString(),
      });
      expect(res.status).toBe(404);
    });

    it('asks the carrier to report again (409, Retry-After) while the booking is being recorded, then takes it', async () => {
      const orderId = randomUUID();
      // A process asked the carrier and has not recorded the answer yet: it holds the intent's lease.
      const shipmentId = await insertBookingIntent(orderId, { dueInMs: 3_600_000 });
      const booking = await fetch(`${carrier.url}/v1/shipments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
        body: JSON.stringify({
          reference: orderId,
          recipient: { ...ADDRESS, country: 'GB' },
          parcels: ITEMS,
          deliveryWebhookUrl: `${service.url}/carrier/deliveries`,
        }),
      });
      expect(booking.status).toBe(201);
      const { shipmentId: carrierShipmentId } = (await booking.json()) as { shipmentId: string };

      const early = await reportToWebhook({
        shipmentId: carrierShipmentId,
        reference: orderId,
        deliveredAt: new Date().toISOString(),
      });
      expect(early.status).toBe(409);
      expect(early.headers.get('retry-after')).toBe('1');
      expect(early.headers.get('content-type')).toContain('application/problem+json');
      expect(await json(early)).toMatchObject({
        status: 409,
        title: 'Conflict',
        detail: expect.stringContaining('still being recorded') as string,
      });
      // The carrier's own report meets the same answer, and the carrier tries again.
      await fetch(`${carrier.url}/v1/shipments/${carrierShipmentId}/deliver`, { method: 'POST' });
      await waitFor(
        () =>
          carrierLog().some(
            (l) => l.message === 'delivery report failed; will retry' && l.shipmentId === carrierShipmentId,
          ),
        { what: 'the carrier’s first report refused' },
      );
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(0);

      // The lease runs out; the booker asks again (the same booking, by the order id) and records it.
      await db.query('UPDATE shipments SET booking_due_at = now() WHERE id = $1', [shipmentId]);
      expect(await tap.next(orderId, ShipmentCreated.type)).toMatchObject({ data: { orderId, shipmentId } });
      expect(await carrierShipmentIdOf(shipmentId)).toBe(carrierShipmentId);
      await waitFor(() => deliveryReports(carrierShipmentId).length === 1, {
        timeoutMs: 15_000,
        what: 'the carrier’s report, made again, answered 200',
      });
      expect(await getShipment(shipmentId)).toMatchObject({ status: 'DELIVERED', deliveredBy: 'CARRIER' });
      expect(await tap.next(orderId, ShipmentDelivered.type)).toMatchObject({ data: { orderId, shipmentId } });
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(1);
    });

    it('refuses a report naming another order than the shipment’s (422), and records nothing', async () => {
      const { orderId, shipmentId, carrierShipmentId } = await bookedShipment();
      const res = await reportToWebhook({
        shipmentId: carrierShipmentId,
        reference: randomUUID(),
        deliveredAt: new Date().toISOString(),
      });
      expect(res.status).toBe(422);
      expect(await getShipment(shipmentId)).toMatchObject({ status: 'CREATED' });
      expect(await outboxCount(orderId, ShipmentDelivered.type)).toBe(0);
    });
  });

  describe('GET /shipments', () => {
    it('lists no shipments for an order it has not shipped', async () => {
      const res = await getAsOperator(`${service.url}/shipments?orderId=${randomUUID()}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    });

    it('refuses a missing or malformed order id (400 problem details)', async () => {
      for (const query of ['', '?orderId=nope', `?orderId=${randomUUID()}&status=CREATED`]) {
        const res = await getAsOperator(`${service.url}/shipments${query}`);
        expect(res.status).toBe(400);
        expect(await json(res)).toMatchObject({ status: 400, title: 'Bad Request' });
      }
    });

    it('answers 404 for an unknown shipment and 400 for a malformed id', async () => {
      const unknown = await getAsOperator(`${service.url}/shipments/${randomUUID()}`);
      expect(unknown.status).toBe(404);
      expect(await json(unknown)).toMatchObject({ status: 404, detail: 'No shipment with this id' });
      expect((await getAsOperator(`${service.url}/shipments/not-a-uuid`)).status).toBe(400);
    });
  });
});

/** The service, its carrier at `carrierPort`, retrying unanswered bookings within 200–400 ms, `attempts` times. */
async function startWithQuickBookingRetries(carrierPort: number, attempts: number): Promise<ServiceProcess> {
  const service = new ServiceProcess('logistics', {
    CARRIER_URL: `http://127.0.0.1:${carrierPort}`,
    PORT: String(await freePort()),
    CARRIER_BOOKING_ATTEMPTS: String(attempts),
    CARRIER_BOOKING_RETRY_BASE_MS: '200',
    CARRIER_BOOKING_RETRY_MAX_MS: '400',
    OUTBOX_RETENTION_HOURS: '24',
  });
  await service.start().waitReady();
  return service;
}

describe('with the carrier down', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    // Nothing listens on this port: every booking is refused a connection.
    const closedPort = await freePort();
    service = await startWithQuickBookingRetries(closedPort, 3);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('asks again with backoff, then tells the saga CARRIER_ERROR once so it compensates; a re-send gets the same', async () => {
    const orderId = randomUUID();
    await sendCreateShipment(orderId);
    const [rejected] = await eventsAbout(orderId, 1, 30_000);
    expect(rejected).toMatchObject({
      type: 'logistics.shipment-rejected.v1',
      data: { orderId, code: 'CARRIER_ERROR' },
    });
    expect(rejected.data.reason).toMatch(/ECONNREFUSED.*after 3 attempts/);
    expect(await outboxCount(orderId, ShipmentRejected.type)).toBe(1);

    // Each unanswered call waits longer before the next: 100–200 ms after the first, 200–400 ms after the second.
    const retried = service.lines.filter((l) => l.message === 'booking will be retried' && l.orderId === orderId);
    expect(retried.map((l) => l.attempt)).toEqual([1, 2]);
    const [first, second] = retried as { retryInMs: number; time: string }[];
    expect(first.retryInMs).toBeGreaterThanOrEqual(100);
    expect(first.retryInMs).toBeLessThanOrEqual(200);
    expect(second.retryInMs).toBeGreaterThanOrEqual(200);
    expect(second.retryInMs).toBeLessThanOrEqual(400);
    expect(Date.parse(second.time) - Date.parse(first.time)).toBeGreaterThanOrEqual(first.retryInMs);
    // The command itself was handled once: asking the carrier no longer fails (and retries) the message.
    const commandRetries = service.lines.filter(
      (l) => l.message === 'message will be retried' && l.correlationId === orderId,
    );
    expect(commandRetries).toEqual([]);
    expect(await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))).toMatchObject([
      { orderId, status: 'REJECTED', rejectionCode: 'CARRIER_ERROR' },
    ]);

    await sendCreateShipment(orderId);
    const [, again] = await eventsAbout(orderId, 2);
    expect(again).toMatchObject({ type: rejected.type, data: rejected.data });
  });
});

describe('with the carrier down, then back', () => {
  let service: ServiceProcess;
  let carrier: SimulatorProcess | undefined;
  let carrierPort: number;

  beforeAll(async () => {
    carrierPort = await freePort();
    service = await startWithQuickBookingRetries(carrierPort, 50);
  });

  afterAll(async () => {
    await service?.stop();
    await carrier?.stop();
  });

  it('books the shipment once the carrier answers again', async () => {
    const orderId = randomUUID();
    await sendCreateShipment(orderId);
    await waitFor(() => service.lines.some((l) => l.message === 'booking will be retried' && l.orderId === orderId), {
      what: 'a booking the carrier did not answer',
    });
    expect(tap.about(orderId)).toEqual([]);

    carrier = await new SimulatorProcess('carrier', carrierPort, { DELIVERY_DELAY_MS: '0' }).start();
    const created = await tap.next(orderId, ShipmentCreated.type);
    expect(created.data).toMatchObject({ orderId, trackingNumber: expect.stringMatching(/^CS\d+SIM$/) as string });
    expect(await outboxCount(orderId, ShipmentCreated.type)).toBe(1);
    expect(await json(await getAsOperator(`${service.url}/shipments?orderId=${orderId}`))).toMatchObject([
      { orderId, status: 'CREATED', trackingNumber: created.data.trackingNumber },
    ]);
  });
});
