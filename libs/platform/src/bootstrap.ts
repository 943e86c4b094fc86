/**
 * How every orderflow service starts and stops.
 *
 * Start: configuration is validated before anything connects (a bad variable exits with code 78 and its name);
 * `<main> migrate` runs this service's migrations and exits, for deploy jobs; otherwise the HTTP app starts with
 * JSON logs, validation, problem details and OpenAPI at `/docs`.
 *
 * Stop: on SIGTERM or SIGINT the service reports not-ready, stops taking requests, lets in-flight work finish,
 * closes its connections, flushes buffered trace spans, and exits 0. If that takes longer than SHUTDOWN_TIMEOUT_MS it exits 1 anyway, so a
 * stuck dependency cannot hold a rolling update.
 */
import { type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { z } from 'zod';
import { WEBHOOK_SIGNATURE } from './access/access-policy.js';
import { type BaseConfig, ConfigurationError, loadConfig } from './config/service-config.js';
import type { ServiceSchema } from './database/data-source-options.js';
import { migrateSchema } from './database/schema-migration.js';
import { Readiness } from './health/readiness.js';
import { documentRateLimitHeaders } from './http/problem-responses.js';
import { requestValidationPipe } from './http/request-validation.js';
import { documentValidationBounds } from './http/validation-bounds.js';
import { UntrustedInputInterceptor } from './http/untrusted-input.js';
import { ServiceIdentity, type ServiceName } from './service-identity.js';
import { startTracing, type Tracing } from './tracing/tracing.js';

/** Exit status for a configuration error (sysexits EX_CONFIG), distinct from a crash. */
export const EXIT_CONFIG = 78;

export interface ServiceDefinition<C extends BaseConfig> {
  name: ServiceName;
  version: string;
  title: string;
  description: string;
  configSchema: z.ZodType<C>;
  schema: ServiceSchema;
  rootModule: (config: C, identity: ServiceIdentity) => DynamicModule;
}

export async function runService<C extends BaseConfig>(
  definition: ServiceDefinition<C>,
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const identity = new ServiceIdentity(definition.name, definition.version);
  const config = loadConfigOrExit(definition.configSchema, env, identity);

  if (argv[0] === 'migrate') {
    process.exitCode = await migrate(config, identity, definition.schema);
    return;
  }
  if (argv.length > 0) {
    writeFatal(identity, `unknown command "${argv[0]}"; the only command is "migrate"`);
    process.exit(64);
  }

  // Before the app exists, so the HTTP server it creates is traced (see tracing/tracing.ts).
  const tracing = await startTracing(identity, env);
  const app = await NestFactory.create(definition.rootModule(config, identity), {
    bufferLogs: true,
    // Signed webhooks are verified over the exact bytes that were signed.
    rawBody: true,
  });
  configureHttp(app, definition);
  shutDownGracefully(app, config.SHUTDOWN_TIMEOUT_MS, tracing);
  await app.listen(config.PORT);
  app.get(Logger).log({ message: `${definition.title} listening`, port: config.PORT, docs: '/docs' });
}

/** Validation, logs and OpenAPI: shared by `runService` and by tests that build the app in-process. */
export function configureHttp(
  app: INestApplication,
  definition: Pick<ServiceDefinition<BaseConfig>, 'title' | 'description' | 'version'>,
): void {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // Nothing tells a caller which framework answers (OWASP API8).
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  app.use(securityHeaders());
  // Depth and unstorable characters first: the pipe's class-transformer would overflow its stack on a deep body.
  app.useGlobalInterceptors(new UntrustedInputInterceptor());
  app.useGlobalPipes(requestValidationPipe());
  documentValidationBounds();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(definition.title)
      .setDescription(definition.description)
      .setVersion(definition.version)
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        description:
          'A merchant API key, an operator token, or an OIDC JWT of an operator. JWTs are verified as RFC8725 asks: ' +
          'asymmetric algorithms only (never `none` or HMAC), the issuer’s published keys, issuer and audience checked.',
      })
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description:
            'Webhooks from the payment gateway and the carrier: a Standard Webhooks signature (HMAC-SHA256 over ' +
            '`webhook-id`, `webhook-timestamp` and the body with a shared `whsec_` secret), at most five minutes old.',
        },
        WEBHOOK_SIGNATURE,
      )
      .addSecurityRequirements('bearer')
      .build(),
  );
  documentRateLimitHeaders(document);
  SwaggerModule.setup('docs', app, document, {
    // The browser tab names the service, not the tool: five of them are open side by side.
    customSiteTitle: `${definition.title} — API`,
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}

/**
 * Security headers on every answer (helmet's set: nosniff, frame denial, no referrer, a same-origin resource policy,
 * a content security policy), and `Cache-Control: no-store`: answers carry per-caller data and sometimes secrets (a new
 * API key, a webhook secret), which no browser or proxy cache may keep. Routes that serve static files set their own
 * caching and a stricter policy (the operator console); the policy here allows what Swagger UI at /docs needs — its
 * own scripts, inline styles and data: images — and nothing from elsewhere. No upgrade-insecure-requests: the
 * services speak plain HTTP behind a TLS-terminating ingress, and on a port-forward the upgrade would break /docs.
 */
export function securityHeaders(): RequestHandler {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  return (req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    headers(req, res, next);
  };
}

function shutDownGracefully(app: INestApplication, timeoutMs: number, tracing: Tracing): void {
  const logger = app.get(Logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log({ message: 'shutting down', signal, timeoutMs });
    app.get(Readiness).markShuttingDown();
    const deadline = setTimeout(() => {
      logger.error({ message: 'shutdown did not finish in time; exiting', timeoutMs });
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    app
      .close()
      // Last, so the spans of the work that finished during close are exported too.
      .then(() =>
        tracing
          .shutdown()
          // Losing the last spans is no reason to report a failed shutdown.
          .catch((err: unknown) => logger.warn({ message: 'trace spans not flushed', err })),
      )
      .then(
        () => {
          logger.log({ message: 'shut down cleanly' });
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ message: 'shutdown failed', err });
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function migrate(config: BaseConfig, identity: ServiceIdentity, schema: ServiceSchema): Promise<number> {
  try {
    const applied = await migrateSchema(config, identity, schema);
    writeLine('info', identity, 'migrations applied', { applied });
    return 0;
  } catch (err) {
    writeLine('error', identity, 'migrations failed', { reason: (err as Error).message });
    return 1;
  }
}

function loadConfigOrExit<C>(schema: z.ZodType<C>, env: NodeJS.ProcessEnv, identity: ServiceIdentity): C {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigurationError)) throw err;
    writeFatal(identity, err.message, { problems: err.problems });
    process.exit(EXIT_CONFIG);
  }
}

// Before the logger exists, lines are written by hand in the same JSON shape pino uses.
function writeLine(level: string, identity: ServiceIdentity, message: string, fields: object = {}): void {
  const line = {
    level,
    time: new Date().toISOString(),
    service: identity.name,
    instance: identity.instance,
    message,
    ...fields,
  };
  (level === 'info' ? process.stdout : process.stderr).write(`${JSON.stringify(line)}\n`);
}

function writeFatal(identity: ServiceIdentity, message: string, fields: object = {}): void {
  writeLine('fatal', identity, message, fields);
}
