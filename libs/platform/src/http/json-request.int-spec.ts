// postJson against a real HTTP server on loopback: the answer, a deadline that also bounds the body, a refusal.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from './json-request.js';

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/echo') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ got: JSON.parse(body) as unknown, key: req.headers['idempotency-key'] }));
      } else if (req.url === '/stall') {
        // Headers at once, the body never: the deadline must cover reading it.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('postJson', () => {
  it('sends JSON with the headers given and returns the status and the body', async () => {
    const answer = await postJson(
      `${base}/echo`,
      { amount: 42 },
      { timeoutMs: 2_000, headers: { 'idempotency-key': 'k1' } },
    );
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toEqual({ got: { amount: 42 }, key: 'k1' });
  });

  it('rejects with a TimeoutError when the body does not arrive in time', async () => {
    const failure = await postJson(`${base}/stall`, {}, { timeoutMs: 200 }).catch((err: unknown) => err);
    expect((failure as Error).name).toBe('TimeoutError');
  });

  it('rejects with the socket error as the cause when nobody listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await postJson(`http://127.0.0.1:${port}/x`, {}, { timeoutMs: 2_000 }).catch((err: unknown) => err);
    expect(((failure as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
