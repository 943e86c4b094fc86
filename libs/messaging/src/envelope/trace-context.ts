/**
 * W3C Trace Context for messages: an outgoing message continues the trace of the work that caused it (the
 * message being handled, or the HTTP request), so one order's path can be followed across services by any tracing
 * backend.
 *
 * With OpenTelemetry on (libs/platform/src/tracing), a message carries the context of the span active when it was
 * written — the HTTP request's server span or the handler's process span — and the relay's publish span and the
 * consumer's process span are children of that context. With it off, the same headers are made up here as a new
 * child of the work's own traceparent, so turning tracing on changes no wire format.
 *
 * The wire format is W3C by contract (the CloudEvents distributed tracing extension), so it is read and written
 * with the W3C propagator itself, not whatever propagator the process registered globally.
 */
import { randomFillSync } from 'node:crypto';
import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function childTraceparent(parent?: string): string {
  const match = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = match?.[1] ?? randomHex(16);
  const flags = match?.[3] ?? '01';
  return `00-${traceId}-${randomHex(8)}-${flags}`;
}

/**
 * Random bytes as hex, cut from a pool refilled 4 KiB at a time: one `randomBytes` call per id was measured at ~3 % of
 * a producer's CPU (bench/RESULTS.md, issue 16), most of it the call, not the randomness. Node pools `randomUUID`
 * the same way.
 */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/** The two W3C headers as a message carries them: CloudEvents extension attributes and AMQP headers. */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

const w3c = new W3CTraceContextPropagator();

/**
 * The trace context for a message written now: the active span's when there is one (tracing on), otherwise a new
 * child of `parent`, the trace context of the work that causes the message.
 */
export function outgoingTraceContext(parent: TraceHeaders = {}, active: Context = context.active()): TraceHeaders {
  const carrier: TraceHeaders = {};
  w3c.inject(active, carrier, defaultTextMapSetter);
  if (carrier.traceparent) return carrier;
  return {
    traceparent: childTraceparent(parent.traceparent),
    ...(parent.tracestate && { tracestate: parent.tracestate }),
  };
}

/** The context a message was written in, as the parent of the spans that publish and process it. */
export function incomingTraceContext(headers: TraceHeaders, base: Context = ROOT_CONTEXT): Context {
  return w3c.extract(base, headers, defaultTextMapGetter);
}

/** Reads the trace headers out of AMQP headers (or an outbox row's stored properties.headers). */
export function traceHeadersOf(headers: unknown): TraceHeaders {
  if (typeof headers !== 'object' || headers === null) return {};
  const { traceparent, tracestate } = headers as Record<string, unknown>;
  return {
    ...(typeof traceparent === 'string' && { traceparent }),
    ...(typeof tracestate === 'string' && { tracestate }),
  };
}

// Semantic conventions for messaging and CloudEvents; the attribute names are still "development" in
// @opentelemetry/semantic-conventions, which asks users to copy them rather than import its incubating entry.
const MESSAGING_SYSTEM = 'messaging.system';
const MESSAGING_DESTINATION = 'messaging.destination.name';
const MESSAGING_OPERATION = 'messaging.operation';
const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const MESSAGING_MESSAGE_ID = 'messaging.message.id';
const MESSAGING_CONVERSATION_ID = 'messaging.message.conversation_id';
const MESSAGING_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
const CLOUDEVENTS_ID = 'cloudevents.event_id';
const CLOUDEVENTS_TYPE = 'cloudevents.event_type';
const CLOUDEVENTS_SUBJECT = 'cloudevents.event_subject';

const tracer = () => trace.getTracer('@orderflow/messaging');

export interface ProcessedMessage extends TraceHeaders {
  id: string;
  type: string;
  subject: string;
  correlationId: string;
  attempt: number;
}

/**
 * The CONSUMER span of one message's handling, a child of the context the message was written in. Run the
 * handler in the returned context, so that what it publishes continues from this span.
 */
export function startProcessSpan(queue: string, message: ProcessedMessage): { span: Span; context: Context } {
  const parent = incomingTraceContext(message);
  const span = tracer().startSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MESSAGING_SYSTEM]: 'rabbitmq',
        [MESSAGING_DESTINATION]: queue,
        [MESSAGING_OPERATION]: 'process',
        [MESSAGING_OPERATION_TYPE]: 'process',
        [MESSAGING_MESSAGE_ID]: message.id,
        [MESSAGING_CONVERSATION_ID]: message.correlationId,
        [CLOUDEVENTS_ID]: message.id,
        [CLOUDEVENTS_TYPE]: message.type,
        [CLOUDEVENTS_SUBJECT]: message.subject,
        'orderflow.message.attempt': message.attempt,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

export interface PublishedMessage {
  messageId: string;
  exchange: string;
  routingKey: string;
  /** The AMQP properties it is published with: `type` is the CloudEvents type, `headers` the trace context. */
  properties: Record<string, unknown>;
}

/** The PRODUCER span of the relay's publish of one outbox row, a child of the context the row was written in. */
export function startPublishSpan(message: PublishedMessage): Span {
  return tracer().startSpan(
    `send ${message.exchange}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MESSAGING_SYSTEM]: 'rabbitmq',
        [MESSAGING_DESTINATION]: message.exchange,
        [MESSAGING_ROUTING_KEY]: message.routingKey,
        [MESSAGING_OPERATION]: 'publish',
        [MESSAGING_OPERATION_TYPE]: 'send',
        [MESSAGING_MESSAGE_ID]: message.messageId,
        [CLOUDEVENTS_ID]: message.messageId,
        ...(typeof message.properties.type === 'string' && { [CLOUDEVENTS_TYPE]: message.properties.type }),
      },
    },
    incomingTraceContext(traceHeadersOf(message.properties.headers)),
  );
}

/** Ends a span, as failed when `error` is given. */
export function endSpan(span: Span, error?: Error | string): void {
  if (error !== undefined) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : error });
  }
  span.end();
}
