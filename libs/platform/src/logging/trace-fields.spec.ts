import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { traceFields } from './logging.module.js';

/** A pino logger with the services' mixin, writing its lines into an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ mixin: traceFields }, stream), lines };
}

afterEach(() => {
  trace.disable();
  context.disable();
});

describe('traceFields', () => {
  it('adds nothing with tracing off, line after line', () => {
    const { logger, lines } = capturingLogger();
    logger.info({ context: 'A' }, 'one');
    logger.info({ context: 'B' }, 'two');

    expect(lines.map((line) => [line.msg, line.context, line.trace_id])).toEqual([
      ['one', 'A', undefined],
      ['two', 'B', undefined],
    ]);
  });

  it('adds the active span’s trace and span ids, and only inside it', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const provider = new TracerProvider();
    trace.setGlobalTracerProvider(provider);
    const span = provider.getTracer('test').startSpan('work');
    const { logger, lines } = capturingLogger();

    await context.with(trace.setSpan(context.active(), span), async () => {
      await Promise.resolve();
      logger.info('inside');
    });
    logger.info('outside');
    span.end();

    const { traceId, spanId } = span.spanContext();
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: traceId, span_id: spanId, trace_flags: '01' });
    expect(lines[1]).not.toHaveProperty('trace_id');
    await provider.shutdown();
  });
});
