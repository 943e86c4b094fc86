/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured.
 *
 * Off (the default): nothing here is loaded beyond `@opentelemetry/api`, whose tracer is a no-op; messages still
 * carry a W3C traceparent (libs/messaging makes one up), so turning tracing on later needs no other change. What the
 * hot path pays then is the API's no-op calls: the consumer's and relay's spans, and the log mixin's look-up of the
 * active span (logging/logging.module.ts), each a few function calls that find nothing.
 *
 * On (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER=otlp`): spans are
 * batched and sent as OTLP/HTTP JSON, with `service.name=orderflow-<service>` and the replica as
 * `service.instance.id`. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` wins over an endpoint. Three
 * instrumentations, each made for its job and kept by the OpenTelemetry project:
 * - http: a SERVER span for every request but probes and scrapes.
 * - undici: a CLIENT span for every call made with undici or the global `fetch` (payment gateway, carrier, merchants'
 *   callbacks, the console's calls to the services), and the `traceparent` header on every call, so a third party
 *   that traces sees our trace. A call made outside any trace (a poll of a pending authorisation or delivery, a
 *   notification's delivery) starts a trace of its own: each is work for one order, not an idle loop.
 * - pg: a span per query, but only inside a traced piece of work: the outbox relay and the schedulers poll their
 *   tables several times a second, which would start a trace each. So the queries a request or a handler runs are
 *   traced; the polls, and the shared BEGIN/inbox/outbox/COMMIT of a consumer's batch (which belongs to several
 *   traces at once), are not. No `pg-pool.connect` spans, to keep a trace to the work itself. Query text is kept
 *   (`db.query.text`, with placeholders), parameter values never are.
 * The instrumentations cost nothing while tracing is off, since they are not even loaded; their cost when on is not
 * measured here (bench/RESULTS.md measures tracing off, the default).
 *
 * Why this may start after Nest has loaded, although this is ESM: instrumentations usually have to be registered
 * before the module they patch is imported, and an ESM `import 'node:http'` never passes through the require hook
 * they register (only an `--import` loader hook would see it). We do not depend on load order instead:
 * - http patches `http.Server.prototype.emit` for incoming requests — a prototype that every server shares, whenever
 *   it was created — and `request`/`get` on the builtin's exports object. `startTracing` requires `node:http` itself
 *   right after registering, which fires the require hook and applies the patch, then `syncBuiltinESMExports()`
 *   copies the patched functions into the ESM bindings others imported.
 * - pg patches `Client.prototype.query` and pg-pool's `Pool.prototype.connect`, prototypes too: requiring `pg` and
 *   `pg-pool` after registering fires the hook on the modules already loaded, and every client, whenever created
 *   (TypeORM's, the relay's, the PreparingClient subclass), goes through the patched methods.
 * - undici publishes its requests on `diagnostics_channel`, which the instrumentation subscribes to: no patching, so
 *   both npm's undici and Node's own (behind `fetch`) are seen, whenever they were loaded.
 * So `runService` starts tracing before it creates the Nest app, with no preload flag to add to `node main.js`.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { ServiceIdentity } from '../service-identity.js';

export interface Tracing {
  readonly enabled: boolean;
  /** Ends the SDK after exporting the spans still buffered; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  /** Base URL of the OTLP/HTTP receiver; `/v1/traces` is appended. */
  endpoint?: string;
  /** Full URL for traces, used as is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  tracesEndpoint?: string;
  /** How long spans wait in the batch before export (OTEL_BSP_SCHEDULE_DELAY), in milliseconds. */
  scheduleDelayMs: number;
}

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() };
const DEFAULT_SCHEDULE_DELAY_MS = 5_000;
const SHUTDOWN_FLUSH_MS = 5_000;

/** Reads the standard OTEL_* variables; undefined when tracing is off. */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || exporter === 'none') return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || undefined;
  if (!endpoint && !tracesEndpoint && exporter !== 'otlp') return undefined;
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  return {
    endpoint,
    tracesEndpoint,
    scheduleDelayMs: Number.isFinite(delay) && delay >= 0 ? delay : DEFAULT_SCHEDULE_DELAY_MS,
  };
}

/**
 * Starts the SDK when the environment asks for it. The SDK packages are imported only then, so a service with
 * tracing off loads none of them.
 */
export async function startTracing(identity: ServiceIdentity, env: NodeJS.ProcessEnv): Promise<Tracing> {
  const settings = tracingSettings(env);
  if (!settings) return OFF;

  const [api, core, hooks, resources, semconv, sdk, otlp, instrumentation, http, undici, pg] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
  ]);

  const exporter = new otlp.OTLPTraceExporter({
    // Undefined lets the exporter read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and its headers itself.
    ...(settings.tracesEndpoint
      ? { url: settings.tracesEndpoint }
      : settings.endpoint && { url: `${settings.endpoint.replace(/\/+$/, '')}/v1/traces` }),
  });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: `orderflow-${identity.name}`,
      [semconv.ATTR_SERVICE_VERSION]: identity.version,
      [semconv.ATTR_SERVICE_INSTANCE_ID]: identity.instance,
    }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.scheduleDelayMs })],
  });

  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);

  const unregister = instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new http.HttpInstrumentation({
        // Probes and scrapes every few seconds would drown the traces of real work.
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)(\/|$|\?)/.test(req.url ?? ''),
      }),
      new undici.UndiciInstrumentation(),
      new pg.PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
  });
  // See the file header: fire the require hooks now, then refresh the ESM bindings of the builtins.
  const require = createRequire(import.meta.url);
  for (const module of ['node:http', 'pg', 'pg-pool']) require(module);
  syncBuiltinESMExports();

  return {
    enabled: true,
    async shutdown() {
      unregister();
      let timer: NodeJS.Timeout | undefined;
      try {
        // A receiver that is down must not hold the shutdown until the exporter's own 30 s timeout.
        await Promise.race([
          provider.shutdown(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`not flushed within ${SHUTDOWN_FLUSH_MS} ms`)),
              SHUTDOWN_FLUSH_MS,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
        api.trace.disable();
        api.propagation.disable();
        api.context.disable();
      }
    },
  };
}
