/**
 * The envelope: a CloudEvents 1.0 event in structured JSON mode (`application/cloudevents+json`), so that any
 * CloudEvents consumer can read what orderflow sends. The essentials are mirrored into AMQP properties, so the
 * RabbitMQ console's "Get messages" shows what a message is, who sent it, and when.
 *
 * Decoding is strict: a body that is not a CloudEvent, names an unknown type, or carries data its schema refuses
 * is an UndeliverableMessage — a permanent failure that goes to the dead-letter queue, never a retry loop.
 */
import type { Options } from 'amqplib';
import { type MessageType, messageTypeOf } from '@orderflow/contracts';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { UndeliverableMessage } from '../errors.js';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export interface CloudEvent<D = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  data: D;
  correlationid: string;
  causationid?: string;
  traceparent?: string;
  tracestate?: string;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().regex(/^\/orderflow\/[a-z-]+$/),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1).max(200),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  correlationid: z.string().min(1).max(200),
  causationid: z.string().min(1).max(200).optional(),
  traceparent: z.string().regex(TRACEPARENT).optional(),
  tracestate: z.string().max(512).optional(),
});

/** Time-ordered, unique message ids (UUIDv7): sortable in logs and friendly to B-tree indexes. */
export const newMessageId = (): string => uuidv7();

export const sourceOf = (service: string) => `/orderflow/${service}`;

export interface EnvelopeContext {
  service: string;
  correlationId: string;
  causationId?: string;
  traceparent?: string;
  tracestate?: string;
}

export function envelope<D>(
  messageType: MessageType,
  subject: string,
  data: D,
  context: EnvelopeContext,
): CloudEvent<D> {
  return {
    specversion: '1.0',
    id: newMessageId(),
    source: sourceOf(context.service),
    type: messageType.type,
    time: new Date().toISOString(),
    subject,
    datacontenttype: 'application/json',
    data,
    correlationid: context.correlationId,
    ...(context.causationId && { causationid: context.causationId }),
    ...(context.traceparent && { traceparent: context.traceparent }),
    ...(context.tracestate && { tracestate: context.tracestate }),
  };
}

export function encode(event: CloudEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** AMQP properties mirroring the envelope; `headers` carry the trace context for tools that read only headers. */
export function amqpProperties(event: CloudEvent, service: string): Options.Publish {
  return {
    persistent: true,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    contentEncoding: 'utf-8',
    messageId: event.id,
    type: event.type,
    correlationId: event.correlationid,
    appId: service,
    timestamp: Math.floor(Date.parse(event.time) / 1000),
    headers: {
      subject: event.subject,
      ...(event.traceparent && { traceparent: event.traceparent }),
      ...(event.tracestate && { tracestate: event.tracestate }),
    },
  };
}

export interface DecodedMessage<D = unknown> {
  event: CloudEvent<D>;
  messageType: MessageType;
}

/** Reads and validates a delivery's body: envelope first, then the data against its type's schema. */
export function decode(body: Buffer): DecodedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UndeliverableMessage('body is not JSON', 'undecodable');
  }
  const envelopeResult = envelopeSchema.safeParse(parsed);
  if (!envelopeResult.success) {
    throw new UndeliverableMessage(
      `not an orderflow CloudEvent: ${summarize(envelopeResult.error)}`,
      'invalid-envelope',
    );
  }
  const messageType = messageTypeOf(envelopeResult.data.type);
  if (!messageType) throw new UndeliverableMessage(`unknown message type ${envelopeResult.data.type}`, 'unknown-type');
  const dataResult = messageType.schema.safeParse(envelopeResult.data.data);
  if (!dataResult.success) {
    throw new UndeliverableMessage(
      `${messageType.type} data is invalid: ${summarize(dataResult.error)}`,
      'invalid-data',
    );
  }
  // The subject and the data name the same order (the contract ties them, message-type.ts): handlers may read either.
  let subject: string | undefined;
  try {
    subject = messageType.subjectOf(dataResult.data);
  } catch {
    subject = undefined;
  }
  if (subject !== envelopeResult.data.subject) {
    throw new UndeliverableMessage(
      `${messageType.type} has subject "${envelopeResult.data.subject}", but its data is about ${subject ?? 'no order'}`,
      'invalid-data',
    );
  }
  return { event: { ...(envelopeResult.data as CloudEvent), data: dataResult.data }, messageType };
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
