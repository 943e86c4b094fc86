import { type DynamicModule, Module } from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceIdentity } from '../service-identity.js';
import { correlationIdOf } from './correlation.js';

/** Headers that carry credentials; pino replaces them before a line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/**
 * The trace and span of the work a line is written in, under the names OpenTelemetry gives them in logs (`trace_id`,
 * `span_id`, `trace_flags`), so a backend can go from a line to its trace. The active span is the request's SERVER
 * span, or the `process <queue>` span a consumer runs its handlers in (libs/messaging), or a span opened inside them.
 * With tracing off there is never an active span (the API's context manager is a no-op): the look-up finds nothing
 * and the line is written as before.
 *
 * A pino `mixin`, not @opentelemetry/instrumentation-pino: that one patches `pino()` through the require hook, and
 * nestjs-pino has created its logger from the unpatched function long before tracing starts (tracing/tracing.ts).
 */
export function traceFields(): object {
  const span = trace.getActiveSpan()?.spanContext();
  // A new object each time: pino merges the line's own fields into what the mixin returns.
  if (span === undefined || !isSpanContextValid(span)) return {};
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    trace_flags: (span.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

/**
 * Structured JSON logs (pino) on stdout. Every line carries the service and instance; every line written while a
 * request is handled also carries its correlation id, through nestjs-pino's async-local context; every line written
 * inside a traced request or message carries its trace and span ids (`traceFields`).
 */
@Module({})
export class LoggingModule {
  static forService(identity: ServiceIdentity, level: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level,
            base: { service: identity.name, instance: identity.instance, version: identity.version },
            messageKey: 'message',
            timestamp: () => `,"time":"${new Date().toISOString()}"`,
            formatters: { level: (label) => ({ level: label }) },
            mixin: traceFields,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            genReqId: correlationIdOf,
            customAttributeKeys: { reqId: 'correlationId' },
            // Probes and scrapes every few seconds would drown the lines that matter.
            autoLogging: { ignore: (req) => /^\/(health|metrics)\b/.test(req.url ?? '') },
            quietReqLogger: true,
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
