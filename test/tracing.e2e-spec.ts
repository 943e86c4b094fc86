// One order's trace, end to end: the merchant's REST call carries a W3C traceparent, and every service that works on
// the order — through the saga, over RabbitMQ and the outboxes, to the payment gateway, the carrier and PostgreSQL —
// exports its spans into that same trace, sends the trace on to the third parties, and writes it in its log lines. A
// tiny OTLP/HTTP receiver stands in for the collector; the services export JSON to it through the exporter they use
// in production (libs/platform/src/tracing).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import {
  asOperator,
  bearer,
  createMerchant,
  RabbitMqManagement,
  ServiceProcess,
  SimulatorProcess,
  simulatorPorts,
  type TestMerchant,
  waitFor,
} from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** OTLP span kinds as the JSON encoding numbers them. */
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}

const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue]),
  );

/** Accepts OTLP/HTTP JSON on POST /v1/traces and keeps every span it is sent. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly rejected: string[] = [];
  private server?: Server;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url}`);
          if (!String(req.headers['content-type']).startsWith('application/json'))
            throw new Error(`content-type ${req.headers['content-type']}`);
          const raw = Buffer.concat(chunks);
          const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          this.collect(JSON.parse(body.toString('utf8')) as OtlpExport);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch (err) {
          this.rejected.push((err as Error).message);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('receiver has no port');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
  }

  inTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  private collect(body: OtlpExport): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
  }
}

const receiver = new OtlpReceiver();
const ports = simulatorPorts();
const gateway = new SimulatorProcess('payment-gateway', ports.paymentGateway, { ASYNC_DELAY_MS: '300' });
const carrier = new SimulatorProcess('carrier', ports.carrier, { DELIVERY_DELAY_MS: '0' });
let services: Record<'order' | 'payment' | 'warehouse' | 'logistics' | 'saga', ServiceProcess>;
let merchant: TestMerchant;

const QUEUES = ['saga.events', 'payment.commands', 'warehouse.commands', 'logistics.commands', 'order.status-updates'];
const SERVICE_NAMES = ['order', 'payment', 'warehouse', 'logistics', 'saga'].map((s) => `orderflow-${s}`);

beforeAll(async () => {
  const endpoint = await receiver.start();
  const tracing = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    RATE_LIMIT_REQUESTS: '1000000',
    // The consumers' `handling message` lines are debug: the lines written inside a message's span.
    LOG_LEVEL: 'debug',
  };
  services = {
    order: new ServiceProcess('order', tracing),
    payment: new ServiceProcess('payment', { ...tracing, PAYMENT_GATEWAY_URL: gateway.url }),
    warehouse: new ServiceProcess('warehouse', tracing),
    logistics: new ServiceProcess('logistics', { ...tracing, CARRIER_URL: carrier.url }),
    saga: new ServiceProcess('saga', tracing),
  };
  // Leftovers of other test files would only add spans of other traces here.
  const management = new RabbitMqManagement();
  for (const queue of QUEUES) await management.delete(`/queues/orderflow/${queue}/contents`);
  await gateway.start();
  await carrier.start();
  const all = Object.values(services);
  all.forEach((s) => s.start());
  await Promise.all(all.map((s) => s.waitReady()));
  merchant = await createMerchant(services.order.url, 'Tracing');
}, 120_000);

afterAll(async () => {
  if (services) await Promise.all(Object.values(services).map((s) => s.stop().catch(() => s.kill())));
  await gateway.stop();
  await carrier.stop();
  await receiver.stop();
});

describe('tracing with OpenTelemetry', () => {
  it('follows one order from the REST call to delivery, through every service, broker hop, third party and database, in the caller’s trace', async () => {
    const sku = `TRACE-${randomUUID().slice(0, 8)}`;
    const stocked = await fetch(`${services.warehouse.url}/stock/${sku}`, {
      method: 'PUT',
      headers: { ...asOperator(), 'content-type': 'application/json' },
      body: JSON.stringify({ onHand: 5 }),
    });
    expect(stocked.ok).toBe(true);

    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const placed = await fetch(`${services.order.url}/orders`, {
      method: 'POST',
      headers: {
        ...bearer(merchant.apiKey),
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({
        customerId: 'customer-trace',
        currency: 'EUR',
        items: [{ sku, quantity: 1, unitPrice: 2500 }],
        payment: { method: 'card', token: 'tok_ok' },
        shippingAddress: {
          name: 'Grace Hopper',
          line1: '1 Harbour St',
          city: 'Arlington',
          postalCode: '22201',
          country: 'US',
        },
      }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };

    const reaches = (wanted: string) =>
      waitFor(
        async () => {
          const res = await fetch(`${services.order.url}/orders/${orderId}`, { headers: bearer(merchant.apiKey) });
          const { status } = (await res.json()) as { status: string };
          return status === wanted || undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: `order ${orderId} to be ${wanted}` },
      );
    await reaches('SHIPPED');
    // The customer signs: recorded by an operator's call, in the same caller's trace, as the order flow test does.
    const shipments = await fetch(`${services.logistics.url}/shipments?orderId=${orderId}`, { headers: asOperator() });
    const [shipment] = (await shipments.json()) as { shipmentId: string }[];
    const signed = await fetch(`${services.logistics.url}/shipments/${shipment.shipmentId}/delivered`, {
      method: 'POST',
      headers: { ...asOperator(), traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(signed.ok).toBe(true);
    await reaches('DELIVERED');

    // Spans leave each service in batches (OTEL_BSP_SCHEDULE_DELAY), a child's batch sometimes before its parent's:
    // wait until every queue's handling of the order, and the span of the work that caused it, have arrived.
    const processed = (queue: string) =>
      receiver
        .inTrace(traceId)
        .filter(
          (s) =>
            s.kind === CONSUMER &&
            s.attributes['messaging.destination.name'] === queue &&
            s.attributes['cloudevents.event_subject'] === orderId,
        );
    const spanIds = () => new Set(receiver.inTrace(traceId).map((s) => s.spanId));
    const callsTo = (baseUrl: string) =>
      receiver
        .inTrace(traceId)
        .filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).startsWith(`${baseUrl}/`));
    await waitFor(
      () =>
        QUEUES.every((queue) => processed(queue).length > 0) &&
        QUEUES.flatMap(processed).every((span) => spanIds().has(span.parentSpanId)) &&
        callsTo(gateway.url).length > 0 &&
        callsTo(carrier.url).length > 0,
      {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: `process spans of order ${orderId} on ${QUEUES.join(', ')}, their parents and the third parties' calls`,
      },
    );

    expect(receiver.rejected).toEqual([]);
    const trace = receiver.inTrace(traceId);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));

    // The REST call continues the caller's span.
    const request = trace.find((s) => s.service === 'orderflow-order' && s.kind === SERVER);
    expect(request?.parentSpanId).toBe(callerSpanId);

    // Each consumer span says what it processed, from where.
    for (const queue of QUEUES) {
      for (const span of processed(queue)) {
        expect(span.name).toBe(`process ${queue}`);
        expect(span.attributes).toMatchObject({
          'messaging.system': 'rabbitmq',
          'messaging.operation': 'process',
          'messaging.destination.name': queue,
        });
        expect(span.attributes['messaging.message.id']).toEqual(expect.any(String));
        expect(span.attributes['cloudevents.event_type']).toMatch(/^[a-z-]+\.[a-z-]+\.v\d+$/);
      }
    }
    // The saga first hears of the order from the REST call's own span.
    const first = processed('saga.events').find((s) => s.attributes['cloudevents.event_type'] === 'order.placed.v1');
    expect(first?.parentSpanId).toBe(request?.spanId);

    // Every service publishes through its outbox relay: a PRODUCER span per hop onto the broker, in the same trace.
    const sends = trace.filter((s) => s.kind === PRODUCER);
    expect(new Set(sends.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));
    for (const span of sends) {
      expect(span.name).toMatch(/^send orderflow\./);
      expect(span.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.operation': 'publish' });
    }

    // The calls to the payment gateway and the carrier are CLIENT spans of the services that make them, and each
    // third party received the traceparent of its call: the same trace, with that call's span as the parent.
    const requestsTo = (simulator: SimulatorProcess) =>
      simulator.output
        .join('')
        .split('\n')
        // Whole JSON lines only: the last chunk may end mid-line.
        .filter((line) => line.startsWith('{') && line.endsWith('}'))
        .map((line) => JSON.parse(line) as { message?: string; path?: string; traceparent?: string })
        .filter((line) => line.message === 'request');
    const received = (simulator: SimulatorProcess) =>
      requestsTo(simulator).filter((line) => line.traceparent?.startsWith(`00-${traceId}-`));
    for (const [simulator, service] of [
      [gateway, 'orderflow-payment'],
      [carrier, 'orderflow-logistics'],
    ] as const) {
      const calls = callsTo(simulator.url);
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(call.service).toBe(service);
        expect(spanIds().has(call.parentSpanId)).toBe(true);
        expect(call.attributes['http.response.status_code']).toEqual(expect.any(Number));
      }
      const parents = received(simulator).map((line) => line.traceparent?.split('-')[2]);
      expect(parents.length).toBeGreaterThan(0);
      expect(calls.map((call) => call.spanId)).toEqual(expect.arrayContaining(parents));
      // Every call a service made carried one (the polls too); only this test's own health checks did not.
      const fromServices = requestsTo(simulator).filter((line) => !line.path?.startsWith('/health'));
      expect(fromServices.filter((line) => line.traceparent === undefined)).toEqual([]);
    }

    // PostgreSQL queries of the request and of the handlers, as CLIENT spans under them.
    const queries = trace.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      expect(query.kind).toBe(CLIENT);
      expect(spanIds().has(query.parentSpanId)).toBe(true);
    }
    expect(queries.some((q) => q.service === 'orderflow-order' && q.parentSpanId === request?.spanId)).toBe(true);

    // Log lines carry the trace: the request's line its SERVER span, and in every service the lines written while a
    // message was handled the span of that handling.
    const linesOf = (service: ServiceProcess) => service.lines.filter((line) => line.trace_id === traceId);
    expect(linesOf(services.order).some((line) => line.span_id === request?.spanId)).toBe(true);
    for (const [name, service] of Object.entries(services)) {
      const handling = linesOf(service).filter((line) => line.message === 'handling message');
      expect(handling.length, `${name} logs the handling of the order's messages`).toBeGreaterThan(0);
      const processSpans = new Set(
        trace.filter((s) => s.service === `orderflow-${name}` && s.kind === CONSUMER).map((s) => s.spanId),
      );
      for (const line of handling) expect(processSpans.has(String(line.span_id))).toBe(true);
    }
  });
});
