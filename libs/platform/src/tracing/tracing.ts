/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured.
 *
 * Off (the default): nothing here is loaded beyond `@opentelemetry/api`, whose tracer is a no-op; messages still
 * carry a W3C traceparent (libs/messaging makes one up), so turning tracing on later needs no other change.
 *
 * On (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER=otlp`): spans are
 * batched and sent as OTLP/HTTP JSON, with `service.name=orderflow-<service>` and the replica as
 * `service.instance.id`. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` wins over an endpoint.
 *
 * Why this may start after Nest has loaded, although this is ESM: instrumentations usually have to be registered
 * before the module they patch is imported, and an ESM `import 'node:http'` never passes through the require hook
 * they register (only an `--import` loader hook would see it). We do not depend on load order instead: the one
 * instrumentation we use, http, patches `http.Server.prototype.emit` for incoming requests — a prototype that every
 * server shares, whenever it was created — and `request`/`get` on the builtin's exports object. `startTracing`
 * requires `node:http` itself right after registering, which fires the require hook and applies the patch, then
 * `syncBuiltinESMExports()` copies the patched functions into the ESM bindings others imported. So `runService`
 * starts tracing before it creates the Nest app, with no preload flag to add to `node main.js`.
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

  const [api, core, hooks, resources, semconv, sdk, otlp, instrumentation, http] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
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
    ],
  });
  // See the file header: fire the require hook for http now, then refresh the ESM bindings.
  createRequire(import.meta.url)('node:http');
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
