import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpMetrics, type ObservedRequest } from './http-metrics.js';

class FakeResponse extends EventEmitter {
  statusCode = 200;
  writableFinished = false;

  end(statusCode: number): void {
    this.statusCode = statusCode;
    this.writableFinished = true;
    this.emit('close');
  }
}

interface Sample {
  labels: { method?: string; route?: string; status?: string };
  value: number;
  metricName?: string;
}

function setup() {
  const registry = new Registry();
  const metrics = new HttpMetrics(registry);
  let clock = 0n;
  const serve = (req: ObservedRequest, tookMs: number, end: (res: FakeResponse) => void) => {
    const res = new FakeResponse();
    metrics.track(req, res, () => clock);
    clock += BigInt(tookMs) * 1_000_000n;
    end(res);
  };
  const samples = async (name: string) =>
    ((await registry.getMetricsAsJSON()).find((m) => m.name === name)!.values as Sample[]).map(
      ({ labels, value, metricName }) => ({ ...labels, value, metricName }),
    );
  return { serve, samples };
}

describe('HttpMetrics', () => {
  it('labels a request with the route template it matched, never its URL', async () => {
    const { serve, samples } = setup();
    serve({ method: 'GET', route: { path: '/orders/:id' } }, 30, (res) => res.end(200));
    serve({ method: 'GET', route: { path: '/orders/:id' } }, 10, (res) => res.end(404));

    expect(await samples('http_server_requests_total')).toEqual([
      { method: 'GET', route: '/orders/:id', status: '200', value: 1, metricName: undefined },
      { method: 'GET', route: '/orders/:id', status: '404', value: 1, metricName: undefined },
    ]);
    const sums = (await samples('http_server_request_duration_seconds')).filter((s) => s.metricName?.endsWith('_sum'));
    expect(sums.map((s) => [s.status, s.value])).toEqual([
      ['200', 0.03],
      ['404', 0.01],
    ]);
  });

  it('bounds the labels whatever the caller sends: no route is `unmatched`, an odd method is OTHER', async () => {
    const { serve, samples } = setup();
    serve({ method: 'GET' }, 1, (res) => res.end(404));
    serve({ method: 'PROPFIND', route: { path: '/orders' } }, 1, (res) => res.end(404));

    expect((await samples('http_server_requests_total')).map((s) => `${s.method} ${s.route} ${s.status}`)).toEqual([
      'GET unmatched 404',
      'OTHER /orders 404',
    ]);
  });

  it('counts a response the client abandoned as 499, with the time it ran', async () => {
    const { serve, samples } = setup();
    serve({ method: 'POST', route: { path: '/orders' } }, 2_000, (res) => res.emit('close'));

    expect((await samples('http_server_requests_total')).map((s) => s.status)).toEqual(['499']);
  });

  it('leaves probes and scrapes out', async () => {
    const { serve, samples } = setup();
    for (const path of ['/metrics', '/health/live', '/health/ready']) {
      serve({ method: 'GET', route: { path } }, 1, (res) => res.end(200));
    }
    expect(await samples('http_server_requests_total')).toEqual([]);
  });
});
