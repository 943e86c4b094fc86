// How a service starts, migrates, loses and regains the broker, and stops: the parts of booting "like production".
import { hostname } from 'node:os';
import pg from 'pg';
import { RabbitMqManagement, ServiceProcess, testEnvironment, waitFor } from '@orderflow/testing';
import { afterEach, describe, expect, it } from 'vitest';

const running: ServiceProcess[] = [];
function track(service: ServiceProcess): ServiceProcess {
  running.push(service);
  return service;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop().catch(() => s.kill())));
});

describe('start-up with a broken configuration', () => {
  it('exits with status 78 and names each bad variable, without printing secrets', async () => {
    const service = track(
      new ServiceProcess('payment', {
        DATABASE_URL: 'mysql://root:hunter2@db/payments',
        AMQP_URL: undefined,
        PORT: 'eighty',
      }).start(),
    );
    expect(await service.exitCode()).toBe(78);
    const fatal = service.lines.find((l) => l.level === 'fatal');
    expect(fatal?.message).toMatch(/PORT: .*; DATABASE_URL: expected a postgres:\/\/ URL; AMQP_URL: is required/);
    expect(service.rawOutput.join('\n')).not.toContain('hunter2');
  });

  it('refuses an unknown command', async () => {
    const service = track(new ServiceProcess('order', {}, ['migrat']).start());
    expect(await service.exitCode()).toBe(64);
    expect(service.lines.at(-1)?.message).toContain('unknown command "migrat"');
  });
});

describe('migrate command', () => {
  it('applies the service’s migrations to its own database, once', async () => {
    const first = track(new ServiceProcess('warehouse', {}, ['migrate']).start());
    expect(await first.exitCode()).toBe(0);
    const again = track(new ServiceProcess('warehouse', {}, ['migrate']).start());
    expect(await again.exitCode()).toBe(0);
    expect(again.lines.find((l) => l.message === 'migrations applied')).toMatchObject({ applied: [] });

    const client = new pg.Client({ connectionString: testEnvironment.databaseUrl('warehouse') });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('SELECT name FROM typeorm_migrations');
      expect(rows.map((r) => r.name)).toContain('CreateStockItems1763881200000');
      const table = await client.query("SELECT to_regclass('public.stock_items') AS t");
      expect(table.rows[0].t).toBe('stock_items');
    } finally {
      await client.end();
    }
  });
});

describe('readiness and the broker', () => {
  it('stays green, showing the broker degraded, while the connection is lost, and shows it up once reconnected', async () => {
    const service = track(new ServiceProcess('logistics').start());
    await service.waitReady();
    const management = new RabbitMqManagement();
    const name = `logistics@${hostname()}`;
    const connection = await waitFor(
      async () => (await management.connections()).find((c) => c.client_properties.connection_name === name),
      { what: 'the logistics connection' },
    );
    await management.delete(`/connections/${encodeURIComponent(connection.name)}`);

    const ready = async () => {
      const res = await fetch(`${service.url}/health/ready`);
      return { status: res.status, body: (await res.json()) as { details: Record<string, { status: string }> } };
    };
    const degraded = await waitFor(
      async () => {
        const answer = await ready();
        return answer.body.details.broker.status === 'degraded' && answer;
      },
      { what: 'the broker to show degraded', intervalMs: 20 },
    );
    expect(degraded.status).toBe(200);
    await waitFor(async () => (await ready()).body.details.broker.status === 'up', {
      timeoutMs: 30_000,
      what: 'the broker to show up again',
    });
    expect(service.lines.some((l) => l.message === 'broker connection lost; reconnecting')).toBe(true);
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops taking work, closes its connections and exits 0', async () => {
    const service = track(new ServiceProcess('saga').start());
    await service.waitReady();
    expect(await service.stop()).toBe(0);
    const messages = service.lines.map((l) => l.message);
    expect(messages).toContain('shutting down');
    expect(messages.at(-1)).toBe('shut down cleanly');
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
  });
});
