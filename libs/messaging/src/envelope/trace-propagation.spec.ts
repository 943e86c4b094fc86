import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TraceState } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OrderCancellationRequested } from '@orderflow/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { amqpProperties, decode, encode, envelope } from './cloud-event.js';
import {
  endSpan,
  incomingTraceContext,
  outgoingTraceContext,
  startProcessSpan,
  startPublishSpan,
  traceHeadersOf,
} from './trace-context.js';

// The OpenTelemetry side of trace-context.ts with a real SDK, as libs/platform's startTracing registers it.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

afterEach(() => exporter.reset());

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A message as UnitOfWork writes it, then as the consumer reads it back from the wire. */
function roundTrip(trace: { traceparent?: string; tracestate?: string }) {
  const orderId = randomUUID();
  const event = envelope(
    OrderCancellationRequested,
    orderId,
    { orderId },
    {
      service: 'order',
      correlationId: 'corr-1',
      ...trace,
    },
  );
  const properties = amqpProperties(event, 'order');
  return { properties, decoded: decode(encode(event)).event };
}

describe('outgoingTraceContext', () => {
  it('with no active span, continues the work’s trace as a new child and keeps its tracestate', () => {
    const out = outgoingTraceContext({ traceparent: PARENT, tracestate: 'vendor=1' });

    expect(out.traceparent?.split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(out.traceparent).not.toBe(PARENT);
    expect(out.tracestate).toBe('vendor=1');
  });

  it('inside a span, carries that span, and the consumer reads the same context back from the headers', () => {
    const span = tracer.startSpan('request', {}, incomingTraceContext({ traceparent: PARENT }));
    const withState = trace.setSpan(
      context.active(),
      trace.wrapSpanContext({ ...span.spanContext(), traceState: new TraceState('vendor=1') }),
    );

    const out = context.with(withState, () => outgoingTraceContext({ traceparent: PARENT }));
    const { properties, decoded } = roundTrip(out);

    const fromHeaders = trace.getSpanContext(incomingTraceContext(traceHeadersOf(properties.headers)));
    const fromBody = trace.getSpanContext(incomingTraceContext(decoded));
    for (const read of [fromHeaders, fromBody]) {
      expect(read).toMatchObject({
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        traceFlags: 1,
        isRemote: true,
      });
      expect(read?.traceState?.serialize()).toBe('vendor=1');
    }
    span.end();
  });
});

describe('message spans', () => {
  it('process a message as a CONSUMER child of the span that wrote it, and what it writes continues from there', () => {
    const request = tracer.startSpan('POST /orders');
    const written = context.with(trace.setSpan(context.active(), request), () => outgoingTraceContext());
    const { decoded } = roundTrip(written);

    const processing = startProcessSpan('saga.events', {
      id: decoded.id,
      type: decoded.type,
      subject: decoded.subject,
      correlationId: decoded.correlationid,
      attempt: 1,
      traceparent: decoded.traceparent,
      tracestate: decoded.tracestate,
    });
    const next = context.with(processing.context, () => outgoingTraceContext(decoded));
    endSpan(processing.span);
    request.end();

    const [process] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(process.name).toBe('process saga.events');
    expect(process.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'saga.events',
      'messaging.operation': 'process',
      'messaging.message.id': decoded.id,
      'cloudevents.event_type': 'order.cancellation-requested.v1',
    });
    expect(next.traceparent).toBe(`00-${process.spanContext().traceId}-${process.spanContext().spanId}-01`);
  });

  it('publish an outbox row as a PRODUCER child of the context stored with it', () => {
    const { properties } = roundTrip({ traceparent: PARENT });

    endSpan(
      startPublishSpan({
        messageId: 'm-1',
        exchange: 'orderflow.events',
        routingKey: 'order.cancellation-requested.v1',
        // As the relay reads it back from the outbox's jsonb column.
        properties: JSON.parse(JSON.stringify(properties)) as Record<string, unknown>,
      }),
      'unroutable',
    );

    const [publish] = exporter.getFinishedSpans();
    expect(publish).toMatchObject({ name: 'send orderflow.events', kind: SpanKind.PRODUCER });
    expect(publish.parentSpanContext).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
    expect(publish.attributes['cloudevents.event_type']).toBe('order.cancellation-requested.v1');
    expect(publish.status).toMatchObject({ code: 2, message: 'unroutable' });
  });

  it('start no trace of their own from a message without trace context', () => {
    const span = startPublishSpan({ messageId: 'm-2', exchange: 'x', routingKey: 'k', properties: {} });
    endSpan(span);

    expect(exporter.getFinishedSpans()[0].parentSpanContext).toBeUndefined();
  });
});
