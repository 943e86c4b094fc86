// The poll of the carrier for deliveries whose report never comes, against the real processes: a carrier that drops
// every report (WEBHOOK_DROP_RATE=1) still has its deliveries recorded, once, by asking it; a report and the poll both
// arriving record one delivery; the poll survives the service being killed between the booking and the delivery; and
// a window that ends without a delivery tells the saga so. The schedule is compressed by configuration (1 s, then at
// most 2 s apart); production waits a minute, then up to an hour, for days.
import { randomUUID } from 'node:crypto';
import { CreateShipment, ShipmentCreated, ShipmentDelivered, ShipmentDeliveryUnreported } from '@orderflow/contracts';
import { amqpProperties, type BrokerConnection, encode, envelope, exchangeFor } from '@orderflow/messaging';
import {
  asOperator,
  connectBrokerAs,
  EventTap,
  freePort,
  ServiceProcess,
  signedWebhookHeaders,
  SimulatorProcess,
  testEnvironment,
  webhookSecret,
} from '@orderflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The saga's broker user: the only sender the logistics service takes its commands from. */
let saga: BrokerConnection;
let tap: EventTap;
let db: pg.Client;

const ADDRESS = { name: 'Ada Lovelace', line1: '12 St James’s Square', city: 'London', postalCode: 'SW1Y 4JH' };

async function sendCreateShipment(orderId: string): Promise<void> {
  const command = envelope(
    CreateShipment,
    orderId,
    { orderId, address: { ...ADDRESS, country: 'GB' }, items: [{ sku: 'SKU-LAMP-01', quantity: 1 }] },
    { service: 'saga', correlationId: orderId },
  );
  const channel = await saga.confirmChannel();
  channel.publish(exchangeFor(CreateShipment), CreateShipment.type, encode(command), {
    ...amqpProperties(command, 'saga'),
    userId: saga.user,
  });
  await channel.waitForConfirms();
  await channel.close();
}

/** The delivery events committed for the order: where a second one would show first. */
async function deliveriesInOutbox(orderId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox_messages WHERE ordering_key = $1 AND routing_key = $2',
    [orderId, ShipmentDelivered.type],
  );
  return rows[0].n;
}

/** Whether the poll of the shipment's delivery is still scheduled. */
async function pollScheduled(shipmentId: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM scheduled_jobs WHERE topic = 'logistics.carrier-delivery' AND key = $1`,
    [shipmentId],
  );
  return rows[0].n === 1;
}

async function carrierShipmentIdOf(shipmentId: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('SELECT carrier_shipment_id AS id FROM shipments WHERE id = $1', [
    shipmentId,
  ]);
  return rows[0].id;
}

beforeAll(async () => {
  saga = await connectBrokerAs('saga', 'e2e@delivery-poll');
  tap = await new EventTap().open([ShipmentCreated.type, ShipmentDelivered.type, ShipmentDeliveryUnreported.type]);
  db = new pg.Client({ connectionString: testEnvironment.databaseUrl('logistics') });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await tap?.close();
  await saga?.close();
});

/** A carrier that delivers only when told to (its test hook) and never reports a delivery by webhook. */
function startCarrier(): Promise<SimulatorProcess> {
  return freePort().then((port) =>
    new SimulatorProcess('carrier', port, { DELIVERY_DELAY_MS: '0', WEBHOOK_DROP_RATE: '1' }).start(),
  );
}

function logistics(carrier: SimulatorProcess, port: number, window = '1d'): ServiceProcess {
  return new ServiceProcess('logistics', {
    CARRIER_URL: carrier.url,
    PORT: String(port),
    // Keeps sent outbox rows, which deliveriesInOutbox counts (by default they go on confirm).
    OUTBOX_RETENTION_HOURS: '24',
    SCHEDULER_POLL_INTERVAL_MS: '100',
    CARRIER_DELIVERY_POLL_FIRST_INTERVAL: '1s',
    CARRIER_DELIVERY_POLL_MAX_INTERVAL: '2s',
    CARRIER_DELIVERY_POLL_WINDOW: window,
  });
}

describe('a carrier whose delivery reports are lost', () => {
  let carrier: SimulatorProcess;
  let port: number;
  let service: ServiceProcess;

  beforeAll(async () => {
    carrier = await startCarrier();
    port = await freePort();
    service = await logistics(carrier, port).start().waitReady();
  });

  afterAll(async () => {
    await service?.stop();
    await carrier?.stop();
  });

  async function booked(): Promise<{ orderId: string; shipmentId: string; carrierShipmentId: string }> {
    const orderId = randomUUID();
    await sendCreateShipment(orderId);
    const created = await tap.next(orderId, ShipmentCreated.type);
    const shipmentId = created.data.shipmentId as string;
    return { orderId, shipmentId, carrierShipmentId: await carrierShipmentIdOf(shipmentId) };
  }

  const deliverAtCarrier = async (carrierShipmentId: string) => {
    const res = await fetch(`${carrier.url}/v1/shipments/${carrierShipmentId}/deliver`, { method: 'POST' });
    expect(res.status).toBe(202);
  };

  const statusOf = async (shipmentId: string) =>
    (
      (await (await fetch(`${service.url}/shipments/${shipmentId}`, { headers: asOperator() })).json()) as {
        status: string;
      }
    ).status;

  /** The report the carrier would have sent, signed as it signs. */
  const report = (carrierShipmentId: string, orderId: string) => {
    const body = JSON.stringify({ shipmentId: carrierShipmentId, reference: orderId, deliveredAt: new Date() });
    return fetch(`${service.url}/carrier/deliveries`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signedWebhookHeaders(webhookSecret('CARRIER_WEBHOOK_SECRET'), body),
      },
      body,
    });
  };

  it('records the delivery the carrier never reported by asking it, and tells the saga once', async () => {
    const { orderId, shipmentId, carrierShipmentId } = await booked();
    expect(await pollScheduled(shipmentId)).toBe(true);
    await deliverAtCarrier(carrierShipmentId);
    expect(carrier.output.join('')).toContain('delivery report dropped');

    const delivered = await tap.next(orderId, ShipmentDelivered.type);
    expect(delivered.data).toMatchObject({ orderId, shipmentId });
    expect(await statusOf(shipmentId)).toBe('DELIVERED');
    expect(await deliveriesInOutbox(orderId)).toBe(1);
    expect(await pollScheduled(shipmentId)).toBe(false);
  });

  it('records one delivery when the report comes after the poll found it', async () => {
    const { orderId, shipmentId, carrierShipmentId } = await booked();
    await deliverAtCarrier(carrierShipmentId);
    await tap.next(orderId, ShipmentDelivered.type);

    expect((await report(carrierShipmentId, orderId)).status).toBe(200);
    expect(await statusOf(shipmentId)).toBe('DELIVERED');
    expect(await deliveriesInOutbox(orderId)).toBe(1);
  });

  it('records one delivery when the report comes first: it ends the poll in its transaction', async () => {
    const { orderId, shipmentId, carrierShipmentId } = await booked();
    expect((await report(carrierShipmentId, orderId)).status).toBe(200);
    expect(await pollScheduled(shipmentId)).toBe(false);
    // The carrier now says delivered too; nothing is left to ask it, so nothing more is recorded.
    await deliverAtCarrier(carrierShipmentId);
    expect((await report(carrierShipmentId, orderId)).status).toBe(200);
    expect(await deliveriesInOutbox(orderId)).toBe(1);
    expect(tap.about(orderId).filter((e) => e.type === ShipmentDelivered.type)).toHaveLength(1);
  });

  it('keeps asking after the service is killed between the booking and the delivery', async () => {
    const { orderId, shipmentId, carrierShipmentId } = await booked();
    service.kill();
    await service.exitCode();
    // Delivered (and its report dropped) while no logistics process runs: only the stored poll can find it.
    await deliverAtCarrier(carrierShipmentId);
    expect(await pollScheduled(shipmentId)).toBe(true);

    service = await logistics(carrier, port).start().waitReady();
    const delivered = await tap.next(orderId, ShipmentDelivered.type, 20_000);
    expect(delivered.data).toMatchObject({ orderId, shipmentId });
    expect(await statusOf(shipmentId)).toBe('DELIVERED');
    expect(await deliveriesInOutbox(orderId)).toBe(1);
  });
});

describe('a delivery the carrier never makes', () => {
  let carrier: SimulatorProcess;
  let service: ServiceProcess;

  beforeAll(async () => {
    carrier = await startCarrier();
    service = await logistics(carrier, await freePort(), '3s')
      .start()
      .waitReady();
  });

  afterAll(async () => {
    await service?.stop();
    await carrier?.stop();
  });

  it('tells the saga, once the polling window has ended, that the delivery went unreported', async () => {
    const orderId = randomUUID();
    await sendCreateShipment(orderId);
    const shipmentId = (await tap.next(orderId, ShipmentCreated.type)).data.shipmentId as string;

    const unreported = await tap.next(orderId, ShipmentDeliveryUnreported.type, 20_000);
    expect(unreported.data).toEqual({
      orderId,
      shipmentId,
      reason: 'asking the carrier for 3s found no delivery',
    });
    expect(await pollScheduled(shipmentId)).toBe(false);
    const shipment = (await (
      await fetch(`${service.url}/shipments/${shipmentId}`, { headers: asOperator() })
    ).json()) as {
      status: string;
    };
    expect(shipment.status).toBe('CREATED');
  });
});
