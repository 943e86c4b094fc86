import { describe, expect, it } from 'vitest';
import { ServiceProxy } from './service-proxy.js';

const payment = { name: 'payment', baseUrl: 'http://payment.internal:3001/base' } as const;
const options = { readTimeoutMs: 50, writeTimeoutMs: 80, maxResponseBytes: 256 };

type Seen = { url: string; init: RequestInit };

function proxyAnswering(answer: (seen: Seen) => Response | Promise<Response>) {
  const calls: Seen[] = [];
  const fetchFn = (async (url: string, init?: RequestInit) => {
    const seen = { url, init: init ?? {} };
    calls.push(seen);
    return answer(seen);
  }) as typeof fetch;
  return { proxy: new ServiceProxy(options, fetchFn), calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ServiceProxy', () => {
  it("calls the configured base URL with the operator's own credential and the correlation id, nothing else", async () => {
    const { proxy, calls } = proxyAnswering(() => json(200, [{ queue: 'payment.commands', messages: 0 }]));
    const answer = await proxy.call(payment, {
      method: 'POST',
      path: '/dead-letters/payment.commands/replay',
      authorization: 'Bearer operator-token',
      correlationId: 'c-1',
      body: { messageIds: ['x'] },
    });
    expect(answer).toEqual({ kind: 'answer', status: 200, body: [{ queue: 'payment.commands', messages: 0 }] });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('http://payment.internal:3001/base/dead-letters/payment.commands/replay');
    expect(calls[0].init).toMatchObject({
      method: 'POST',
      redirect: 'manual',
      body: '{"messageIds":["x"]}',
      headers: {
        accept: 'application/json',
        authorization: 'Bearer operator-token',
        'x-correlation-id': 'c-1',
        'content-type': 'application/json',
      },
    });
  });

  it("passes the service's status and problem details through", async () => {
    const problem = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'unknown queue' };
    const { proxy } = proxyAnswering(() => json(404, problem));
    expect(await proxy.call(payment, { method: 'GET', path: '/dead-letters/payment.x' })).toEqual({
      kind: 'answer',
      status: 404,
      body: problem,
    });
  });

  it('follows no redirect', async () => {
    const { proxy } = proxyAnswering(
      () => new Response(null, { status: 302, headers: { location: 'http://elsewhere/' } }),
    );
    expect(await proxy.call(payment, { method: 'GET', path: '/dead-letters' })).toMatchObject({
      kind: 'unavailable',
      status: 502,
    });
  });

  it('gives up on an answer larger than the bound, or one that is not JSON', async () => {
    const big = proxyAnswering(() => json(200, { padding: 'x'.repeat(500) }));
    expect(await big.proxy.call(payment, { method: 'GET', path: '/dead-letters' })).toEqual({
      kind: 'unavailable',
      status: 502,
      detail: 'the payment service answered more than 256 bytes',
    });
    const html = proxyAnswering(() => new Response('<html>', { status: 200 }));
    expect(await html.proxy.call(payment, { method: 'GET', path: '/dead-letters' })).toMatchObject({
      kind: 'unavailable',
      status: 502,
    });
  });

  it('bounds the wait: a service that does not answer in time is a 504', async () => {
    const { proxy } = proxyAnswering(
      ({ init }) =>
        new Promise<Response>((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
        ),
    );
    expect(await proxy.call(payment, { method: 'GET', path: '/dead-letters' })).toEqual({
      kind: 'unavailable',
      status: 504,
      detail: 'the payment service did not answer within 50 ms',
    });
  });

  it('reports a service it cannot reach as a 502 with the cause', async () => {
    const { proxy } = proxyAnswering(() => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    expect(await proxy.call(payment, { method: 'GET', path: '/dead-letters' })).toEqual({
      kind: 'unavailable',
      status: 502,
      detail: 'the payment service could not be reached: ECONNREFUSED',
    });
  });
});
