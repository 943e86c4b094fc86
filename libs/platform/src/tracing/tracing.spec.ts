import { describe, expect, it } from 'vitest';
import { ServiceIdentity } from '../service-identity.js';
import { startTracing, tracingSettings } from './tracing.js';

describe('tracingSettings', () => {
  it('is off by default', () => {
    expect(tracingSettings({})).toBeUndefined();
  });

  it.each([
    ['an endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }],
    ['a traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }],
    ['the otlp exporter', { OTEL_TRACES_EXPORTER: 'otlp' }],
  ])('is on with %s', (_what, env) => {
    expect(tracingSettings(env)).toMatchObject({ scheduleDelayMs: 5_000 });
  });

  it.each([
    ['OTEL_SDK_DISABLED', { OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_TRACES_EXPORTER: 'none' }],
  ])('stays off with %s, whatever the endpoint', (_what, env) => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...env })).toBeUndefined();
  });

  it('takes the batch delay from OTEL_BSP_SCHEDULE_DELAY', () => {
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_BSP_SCHEDULE_DELAY: '200' }),
    ).toMatchObject({ scheduleDelayMs: 200 });
  });
});

describe('startTracing', () => {
  it('starts nothing when off', async () => {
    const tracing = await startTracing(new ServiceIdentity('order', '1.0.0'), {});
    expect(tracing.enabled).toBe(false);
    await tracing.shutdown();
  });
});
