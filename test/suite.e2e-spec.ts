// The five services as real processes on the test profile's PostgreSQL and RabbitMQ: they boot, report ready,
// show themselves by name in the broker's console, answer errors as problem details, and stop cleanly.
import { hostname } from 'node:os';
import { SERVICE_NAMES } from '@orderflow/platform';
import { asOperator, RabbitMqManagement, ServiceProcess, waitFor } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const services = SERVICE_NAMES.map((name) => new ServiceProcess(name));

beforeAll(async () => {
  services.forEach((service) => service.start());
  await Promise.all(services.map((service) => service.waitReady()));
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop().catch(() => service.kill())));
});

describe.each(services.map((s) => [s.service, s] as const))('%s service', (name, service) => {
  it('is ready: its database and the broker answer', async () => {
    const res = await fetch(`${service.url}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; details: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.details.database?.status).toBe('up');
    expect(body.details.broker?.status).toBe('up');
  });

  it('is live', async () => {
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  });

  it('publishes its OpenAPI document at /docs', async () => {
    const res = await fetch(`${service.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { title: string }; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toContain('orderflow');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    expect((await fetch(`${service.url}/docs`)).headers.get('content-type')).toContain('text/html');
  });

  it('answers an unknown route with problem details and logs it under the caller’s correlation id', async () => {
    const correlationId = `e2e-${name}-${Date.now()}`;
    // With the operator token, so that no access check stands before the routing this test is about.
    const res = await fetch(`${service.url}/no-such-route`, {
      headers: { 'x-correlation-id': correlationId, ...asOperator() },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('x-correlation-id')).toBe(correlationId);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(await res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      instance: '/no-such-route',
    });
    const line = await waitFor(() => service.lines.find((l) => l.correlationId === correlationId), {
      what: 'a log line with the correlation id',
    });
    expect(line).toMatchObject({ service: name, instance: `${name}@${hostname()}` });
  });
});

describe('the RabbitMQ console', () => {
  it('shows one connection per service, named <service>@<host>, under the service’s own user', async () => {
    const management = new RabbitMqManagement();
    const connections = await waitFor(
      async () => {
        const all = await management.connections();
        const ours = all.filter((c) =>
          services.some((s) => c.client_properties.connection_name === `${s.service}@${hostname()}`),
        );
        return ours.length >= services.length && ours;
      },
      { what: 'every service connection in the management API' },
    );
    for (const service of services) {
      const mine = connections.filter(
        (c) => c.client_properties.connection_name === `${service.service}@${hostname()}`,
      );
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.every((c) => c.user === service.service && c.vhost === 'orderflow')).toBe(true);
    }
  });
});
