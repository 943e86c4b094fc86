import { type DynamicModule, Module } from '@nestjs/common';
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
 * Structured JSON logs (pino) on stdout. Every line carries the service and instance; every line written while a
 * request is handled also carries its correlation id, through nestjs-pino's async-local context.
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
