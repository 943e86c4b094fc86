import { randomUUID } from 'node:crypto';
import { OrderCancellationRequested, PaymentAuthorized } from '@orderflow/contracts';
import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { PermanentError, UndeliverableMessage } from '../errors.js';
import {
  amqpProperties,
  CLOUDEVENTS_CONTENT_TYPE,
  type CloudEvent as OrderflowCloudEvent,
  decode,
  encode,
  envelope,
  newMessageId,
} from './cloud-event.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function authorized() {
  const orderId = randomUUID();
  const data = { orderId, paymentId: randomUUID(), amount: 12_345, currency: 'EUR' };
  const event = envelope(PaymentAuthorized, orderId, data, {
    service: 'payment',
    correlationId: `req-${randomUUID()}`,
    causationId: randomUUID(),
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'vendor=value',
  });
  return { orderId, data, event };
}

/** A structurally valid envelope around `data`, for the decoder to judge. */
function bodyWith(overrides: Record<string, unknown>): Buffer {
  const orderId = randomUUID();
  const event = envelope(OrderCancellationRequested, orderId, { orderId }, { service: 'order', correlationId: 'c-1' });
  return Buffer.from(JSON.stringify({ ...event, ...overrides }));
}

function rejection(body: Buffer): UndeliverableMessage {
  try {
    decode(body);
  } catch (err) {
    if (err instanceof UndeliverableMessage) return err;
    throw err;
  }
  throw new Error('decode accepted the body');
}

describe('the envelope', () => {
  it('is a valid CloudEvent to the official SDK, in structured JSON mode', () => {
    const { orderId, data, event } = authorized();
    const body = encode(event).toString('utf8');

    const read = HTTP.toEvent({ headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE }, body });

    expect(read).toBeInstanceOf(CloudEvent);
    const cloudEvent = read as CloudEvent<unknown>;
    expect(cloudEvent.validate()).toBe(true);
    expect(cloudEvent.specversion).toBe('1.0');
    expect(cloudEvent.id).toBe(event.id);
    expect(cloudEvent.source).toBe('/orderflow/payment');
    expect(cloudEvent.type).toBe('payment.authorized.v1');
    expect(cloudEvent.subject).toBe(orderId);
    expect(cloudEvent.datacontenttype).toBe('application/json');
    expect(cloudEvent.time).toBe(event.time);
    expect(cloudEvent.data).toEqual(data);
    expect(cloudEvent.correlationid).toBe(event.correlationid);
    expect(cloudEvent.causationid).toBe(event.causationid);
    expect(cloudEvent.traceparent).toBe(event.traceparent);
    expect(cloudEvent.tracestate).toBe('vendor=value');
  });

  it('leaves out the optional attributes it was not given', () => {
    const event = envelope(
      OrderCancellationRequested,
      'o-1',
      { orderId: 'o-1' },
      { service: 'order', correlationId: 'c' },
    );
    expect(event).not.toHaveProperty('causationid');
    expect(event).not.toHaveProperty('traceparent');
    expect(event).not.toHaveProperty('tracestate');
  });

  it('is mirrored into AMQP properties, so the console shows what it is, who sent it and when', () => {
    const { orderId, event } = authorized();

    const properties = amqpProperties(event, 'payment');

    expect(properties).toMatchObject({
      persistent: true,
      contentType: 'application/cloudevents+json',
      contentEncoding: 'utf-8',
      messageId: event.id,
      type: 'payment.authorized.v1',
      correlationId: event.correlationid,
      appId: 'payment',
      timestamp: Math.floor(Date.parse(event.time) / 1000),
      headers: { subject: orderId, traceparent: event.traceparent, tracestate: 'vendor=value' },
    });
  });

  it('decodes back to itself, with its message type', () => {
    const { event } = authorized();

    const decoded = decode(encode(event));

    expect(decoded.messageType).toBe(PaymentAuthorized);
    expect(decoded.event).toEqual(event);
  });
});

describe('decode refuses, as undeliverable,', () => {
  it('a body that is not JSON', () => {
    expect(rejection(Buffer.from('{"specversion": "1.0",'))).toMatchObject({ reason: 'undecodable' });
  });

  it('JSON that is not an orderflow CloudEvent', () => {
    expect(rejection(Buffer.from(JSON.stringify({ hello: 'world' })))).toMatchObject({ reason: 'invalid-envelope' });
    expect(rejection(bodyWith({ specversion: '0.3' }))).toMatchObject({ reason: 'invalid-envelope' });
    expect(rejection(bodyWith({ source: 'https://example.com' }))).toMatchObject({ reason: 'invalid-envelope' });
    expect(rejection(bodyWith({ correlationid: undefined }))).toMatchObject({ reason: 'invalid-envelope' });
  });

  it('a type orderflow does not know', () => {
    const error = rejection(bodyWith({ type: 'payment.teleported.v1' }));
    expect(error).toMatchObject({ reason: 'unknown-type' });
    expect(error.message).toContain('payment.teleported.v1');
  });

  it('data its type’s schema refuses', () => {
    const error = rejection(bodyWith({ data: { orderId: 'not-a-uuid' } }));
    expect(error).toMatchObject({ reason: 'invalid-data' });
    expect(error.message).toContain('orderId');
  });

  it('a subject that is not the order its data names', () => {
    const other = randomUUID();
    const error = rejection(bodyWith({ subject: other }));
    expect(error).toMatchObject({ reason: 'invalid-data' });
    expect(error.message).toContain(`subject "${other}"`);
  });

  it('which is a permanent failure: dead-lettered at once, never retried', () => {
    expect(rejection(Buffer.from('nope'))).toBeInstanceOf(PermanentError);
  });
});

describe('message ids', () => {
  it('are UUIDv7, stamped with the time they were made', () => {
    const before = Date.now();
    const id = newMessageId();
    const after = Date.now();

    expect(id).toMatch(UUID_V7);
    const stampedAt = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(stampedAt).toBeGreaterThanOrEqual(before);
    expect(stampedAt).toBeLessThanOrEqual(after);
  });

  it('sort in the order they were made, even within one millisecond', () => {
    const ids = Array.from({ length: 2_000 }, () => newMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('are new for every envelope', () => {
    const make = (): OrderflowCloudEvent =>
      envelope(OrderCancellationRequested, 'o', { orderId: 'o' }, { service: 'order', correlationId: 'c' });
    expect(make().id).not.toBe(make().id);
  });
});
