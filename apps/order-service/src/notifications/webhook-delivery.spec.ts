import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { freePort, waitFor } from '@orderflow/testing';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type LookupAll } from '../callback-urls/callback-url.js';
import { WebhookDelivery, type DeliveryOptions, type DeliveryRequest } from './webhook-delivery.js';

// Real HTTP servers on 127.0.0.1: the adapter's worth is in how it behaves on a socket, which a mock would not show.

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Receiver {
  url: string;
  port: number;
  received: Received[];
}

const servers: Server[] = [];
const deliveries: WebhookDelivery[] = [];

afterEach(async () => {
  await Promise.all(deliveries.splice(0).map((delivery) => delivery.close()));
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function receiver(respond: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      respond(req, res, body);
    });
  });
  // A refused delivery must not even connect, so connections are counted as well as requests.
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/orderflow/notifications`, port, received };
}

function connectionsTo(server: Server): { count: number } {
  const seen = { count: 0 };
  server.on('connection', () => seen.count++);
  return seen;
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

function delivery(options: Partial<DeliveryOptions> = {}): WebhookDelivery {
  const created = new WebhookDelivery({
    timeoutMs: 2_000,
    maxResponseBytes: 16 * 1024,
    allowPrivateNetworks: true,
    userAgent: 'orderflow-notifications/test',
    ...options,
  });
  deliveries.push(created);
  return created;
}

function request(url: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  const webhookId = randomUUID();
  return {
    url,
    webhookId,
    body: JSON.stringify({ notificationId: webhookId, orderId: randomUUID(), status: 'CONFIRMED', sequence: 2 }),
    secrets: [newSecret()],
    at: new Date(),
    ...overrides,
  };
}

const answer =
  (status: number, body = '', headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
  };

const lookupTo =
  (...addresses: string[]): LookupAll =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('WebhookDelivery', () => {
  it('is acknowledged by a 2xx and POSTs the body unchanged with the notification headers', async () => {
    const merchant = await receiver(answer(204));
    const req = request(merchant.url);

    const result = await delivery().deliver(req);

    expect(result).toMatchObject({ acknowledged: true, statusCode: 204 });
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(merchant.received).toHaveLength(1);
    const [got] = merchant.received;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/orderflow/notifications');
    expect(got.body).toBe(req.body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('orderflow-notifications/test');
    expect(got.headers['webhook-id']).toBe(req.webhookId);
    expect(got.headers['webhook-timestamp']).toBe(String(Math.floor(req.at.getTime() / 1000)));
  });

  it('keeps the query string of the callback URL', async () => {
    const merchant = await receiver(answer(200));
    await delivery().deliver(request(`${merchant.url}?tenant=7&x=%23`));
    expect(merchant.received[0].url).toBe('/orderflow/notifications?tenant=7&x=%23');
  });

  it('is not acknowledged by a 500, and says so with a short excerpt of the answer', async () => {
    const merchant = await receiver(answer(500, `database\r\n\u0000down ${'x'.repeat(1000)}`));

    const result = await delivery().deliver(request(merchant.url));

    expect(result).toMatchObject({ acknowledged: false, statusCode: 500 });
    expect(result.error).toMatch(/^HTTP 500: database down x+…$/);
    expect(result.error!.length).toBeLessThanOrEqual('HTTP 500: '.length + 200);
  });

  it('never repeats a secret or signature the receiver echoes back', async () => {
    const secret = newSecret();
    const merchant = await receiver((req, res) => {
      const signature = req.headers['webhook-signature'] as string;
      res.writeHead(401).end(`got ${signature}, expected one made with ${secret}; ${JSON.stringify({ signature })}`);
    });

    const result = await delivery().deliver(request(merchant.url, { secrets: [secret] }));

    const signature = (merchant.received[0].headers['webhook-signature'] as string).slice('v1,'.length);
    expect(result.error).toBe(
      'HTTP 401: got v1,[redacted], expected one made with whsec_[redacted]; {"signature":"v1,[redacted]"}',
    );
    expect(result.error).not.toContain(signature);
    expect(result.error).not.toContain(secret.slice('whsec_'.length));
  });

  describe('with an acknowledgement body', () => {
    it('is acknowledged by a 2xx whose body is exactly it', async () => {
      const merchant = await receiver(answer(200, 'success'));
      const result = await delivery({ acknowledgementBody: 'success' }).deliver(request(merchant.url));
      expect(result).toMatchObject({ acknowledged: true, statusCode: 200 });
    });

    it('is not acknowledged by a 2xx with another body', async () => {
      const merchant = await receiver(answer(200, 'ok'));
      const result = await delivery({ acknowledgementBody: 'success' }).deliver(request(merchant.url));
      expect(result).toEqual({
        acknowledged: false,
        statusCode: 200,
        latencyMs: expect.any(Number) as number,
        error: 'HTTP 200 without the acknowledgement body "success" (got "ok")',
      });
    });

    it('is not acknowledged by a body that merely starts with it', async () => {
      const merchant = await receiver(answer(200, 'success!'));
      const result = await delivery({ acknowledgementBody: 'success' }).deliver(request(merchant.url));
      expect(result.acknowledged).toBe(false);
    });

    it('without one configured, any 2xx body acknowledges', async () => {
      const merchant = await receiver(answer(200, 'ok'));
      expect((await delivery().deliver(request(merchant.url))).acknowledged).toBe(true);
    });
  });

  it('does not follow a redirect: the target sees no request', async () => {
    const target = await receiver(answer(200, 'success'));
    const targetConnections = connectionsTo(servers.at(-1)!);
    const merchant = await receiver(answer(302, '', { location: target.url }));

    const result = await delivery().deliver(request(merchant.url));

    expect(result).toMatchObject({ acknowledged: false, statusCode: 302 });
    expect(result.error).toBe(`redirects are not followed (HTTP 302 to ${target.url})`);
    expect(merchant.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    expect(targetConnections.count).toBe(0);
  });

  it('times out when the receiver never answers', async () => {
    await receiver(() => undefined);
    const merchant = await receiver(() => undefined);

    const result = await delivery({ timeoutMs: 300 }).deliver(request(merchant.url));

    expect(result).toMatchObject({ acknowledged: false, error: 'timed out after 300 ms' });
    expect(result.statusCode).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(250);
    expect(result.latencyMs).toBeLessThan(2_000);
  });

  it('times out when the receiver sends headers, then trickles the body', async () => {
    const trickles: NodeJS.Timeout[] = [];
    const merchant = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Each byte comes well within any idle timeout, so only a deadline on the whole attempt stops this.
      trickles.push(setInterval(() => res.write('s'), 50));
      res.on('close', () => trickles.forEach(clearInterval));
    });

    const result = await delivery({ timeoutMs: 600, acknowledgementBody: 'success' }).deliver(request(merchant.url));

    trickles.forEach(clearInterval);
    expect(result).toMatchObject({ acknowledged: false, statusCode: 200, error: 'timed out after 600 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(550);
    expect(result.latencyMs).toBeLessThan(3_000);
  });

  it('stops reading a response larger than the cap and drops the connection', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const sender = { sent: 0, closedEarly: false };
    const merchant = await receiver((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': String(total) });
      res.on('close', () => (sender.closedEarly = !res.writableFinished));
      const pump = () => {
        while (sender.sent < total && !res.destroyed) {
          sender.sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (sender.sent >= total) res.end();
      };
      pump();
    });

    const result = await delivery({ maxResponseBytes: 64 * 1024 }).deliver(request(merchant.url));

    expect(result).toMatchObject({ acknowledged: false, statusCode: 500 });
    expect(result.error).toMatch(/^HTTP 500: a+…$/);
    await waitFor(() => sender.closedEarly, { timeoutMs: 5_000, what: 'the receiver to see the connection dropped' });
    // What socket buffers absorbed is all it could send; a client reading on would have taken all 50 MB.
    expect(sender.sent).toBeLessThan(total / 4);
  });

  it('reports a refused connection plainly', async () => {
    const closedPort = await freePort();
    const result = await delivery().deliver(request(`http://127.0.0.1:${closedPort}/hook`));
    expect(result).toMatchObject({ acknowledged: false, error: 'connection refused' });
    expect(result.statusCode).toBeUndefined();
  });

  describe('without private networks', () => {
    it('refuses an internal IP literal before connecting', async () => {
      const merchant = await receiver(answer(200));
      const connections = connectionsTo(servers.at(-1)!);

      const result = await delivery({ allowPrivateNetworks: false }).deliver(request(merchant.url));

      expect(result).toMatchObject({
        acknowledged: false,
        error: 'callbackUrl may not point at a loopback, private or link-local address',
      });
      expect(connections.count).toBe(0);
      expect(merchant.received).toHaveLength(0);
    });

    it('refuses at connect time a host name that resolves inside (DNS rebinding)', async () => {
      const merchant = await receiver(answer(200));
      const connections = connectionsTo(servers.at(-1)!);
      const lookup = lookupTo('127.0.0.1');

      const result = await delivery({ allowPrivateNetworks: false, lookup }).deliver(
        request(`http://merchant.example:${merchant.port}/hook`),
      );

      expect(result).toMatchObject({
        acknowledged: false,
        error: 'callbackUrl may not point at a loopback, private or link-local address',
      });
      expect(connections.count).toBe(0);
      expect(merchant.received).toHaveLength(0);
    });

    it('refuses a host name when any one of its addresses is inside', async () => {
      const merchant = await receiver(answer(200));
      const connections = connectionsTo(servers.at(-1)!);

      const result = await delivery({
        allowPrivateNetworks: false,
        lookup: lookupTo('93.184.215.14', '127.0.0.1'),
      }).deliver(request(`http://merchant.example:${merchant.port}/hook`));

      expect(result.acknowledged).toBe(false);
      expect(connections.count).toBe(0);
    });

    it('refuses localhost by name without resolving it', async () => {
      const lookup: LookupAll = () => Promise.reject(new Error('must not be called'));
      const result = await delivery({ allowPrivateNetworks: false, lookup }).deliver(
        request('http://localhost:9/hook'),
      );
      expect(result.error).toBe('callbackUrl may not point at a loopback, private or link-local address');
    });
  });

  it('connects to the address the injected lookup gives, so the connect-time check sees what is used', async () => {
    const merchant = await receiver(answer(200));
    const asked: string[] = [];
    const lookup: LookupAll = (hostname, options) => {
      asked.push(hostname);
      return lookupTo('127.0.0.1')(hostname, options);
    };

    const result = await delivery({ allowPrivateNetworks: true, lookup }).deliver(
      request(`http://merchant.example:${merchant.port}/hook`),
    );

    expect(result.acknowledged).toBe(true);
    expect(asked).toEqual(['merchant.example']);
    expect(merchant.received[0].headers.host).toBe(`merchant.example:${merchant.port}`);
  });

  it('reports a host that does not resolve', async () => {
    const lookup: LookupAll = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' }));
    const result = await delivery({ lookup }).deliver(request('http://nowhere.example/hook'));
    expect(result).toMatchObject({ acknowledged: false, error: 'host does not resolve' });
  });

  describe('signatures', () => {
    it('verify with each secret of a rotation, and not with an unrelated one', async () => {
      const merchant = await receiver(answer(200));
      const [oldSecret, newSecretValue, unrelated] = [newSecret(), newSecret(), newSecret()];
      const req = request(merchant.url, { secrets: [oldSecret, newSecretValue] });

      await delivery().deliver(req);

      const { headers, body } = merchant.received[0];
      const signed = {
        'webhook-id': headers['webhook-id'] as string,
        'webhook-timestamp': headers['webhook-timestamp'] as string,
        'webhook-signature': headers['webhook-signature'] as string,
      };
      expect(signed['webhook-id']).toBe(req.webhookId);
      expect(signed['webhook-signature'].split(' ')).toHaveLength(2);
      expect(signed['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      expect(new Webhook(oldSecret).verify(body, signed)).toEqual(JSON.parse(req.body));
      expect(new Webhook(newSecretValue).verify(body, signed)).toEqual(JSON.parse(req.body));
      expect(() => new Webhook(unrelated).verify(body, signed)).toThrow(WebhookVerificationError);
    });

    it('are over the exact body: a changed body does not verify', async () => {
      const merchant = await receiver(answer(200));
      const req = request(merchant.url);

      await delivery().deliver(req);

      const { headers } = merchant.received[0];
      const signed = {
        'webhook-id': headers['webhook-id'] as string,
        'webhook-timestamp': headers['webhook-timestamp'] as string,
        'webhook-signature': headers['webhook-signature'] as string,
      };
      expect(() => new Webhook(req.secrets[0]).verify(`${req.body} `, signed)).toThrow(WebhookVerificationError);
    });

    it('are never left out: a request without secrets is a caller error, and nothing is sent', async () => {
      const merchant = await receiver(answer(200));
      await expect(delivery().deliver(request(merchant.url, { secrets: [] }))).rejects.toThrow(/unsigned/);
      expect(merchant.received).toHaveLength(0);
    });
  });
});
