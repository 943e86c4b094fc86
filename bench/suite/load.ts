/**
 * The load generator: places orders through the public REST API only (POST /orders with an Idempotency-Key, as a
 * merchant), over undici pools with keep-alive and a bounded number of connections, spread round-robin over the
 * order service's replicas. Closed loop: C clients, each placing its next order when the previous one was answered.
 * Open loop: arrivals at a given rate (Poisson or evenly spaced) whatever the answers do; a request waiting for a
 * free connection counts its wait, since its time is taken when it was due, not when it was sent.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { sleep } from '../lib/stats.js';

export interface Placement {
  /** Epoch ms when the order was due (open loop) or sent (closed loop): the driver's clock. */
  sentAt: number;
  answeredAt: number;
  /** HTTP status, or 0 when no answer came (connection error, timeout). */
  status: number;
  orderId?: string;
  retryAfter?: string;
}

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class OrderClient {
  private readonly pools: Pool[];
  private next = 0;

  constructor(
    urls: readonly string[],
    connections: number,
    private readonly apiKey: string,
  ) {
    const perPool = Math.max(1, Math.ceil(connections / urls.length));
    this.pools = urls.map(
      (url) =>
        new Pool(url, {
          connections: perPool,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
        }),
    );
  }

  async place(customerId: string, line: OrderLine, sentAt = Date.now()): Promise<Placement> {
    const pool = this.pools[this.next++ % this.pools.length];
    const body = JSON.stringify({
      customerId,
      currency: 'EUR',
      items: [line],
      payment: { method: 'card', token: 'tok_ok' },
      shippingAddress: {
        name: 'Bench Customer',
        line1: '1 Load Street',
        city: 'London',
        postalCode: 'SW1Y 4JH',
        country: 'GB',
      },
    });
    try {
      const res = await pool.request({
        path: '/orders',
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body,
      });
      const text = await res.body.text();
      const placement: Placement = { sentAt, answeredAt: Date.now(), status: res.statusCode };
      if (res.statusCode >= 200 && res.statusCode < 300) {
        placement.orderId = (JSON.parse(text) as { orderId: string }).orderId;
      }
      const retryAfter = res.headers['retry-after'];
      if (retryAfter !== undefined) placement.retryAfter = String(retryAfter);
      return placement;
    } catch {
      return { sentAt, answeredAt: Date.now(), status: 0 };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}

/**
 * C clients in a closed loop until at least `orders` were accepted and at least `minSeconds` passed. A client refused
 * with Retry-After waits that long before its next order, as a well-behaved client does: a closed loop that retried at
 * once would spend the suite's CPU on refusals instead of measuring what it carries.
 */
export async function closedLoop(
  client: OrderClient,
  customerId: string,
  line: OrderLine,
  options: { clients: number; orders: number; minSeconds: number },
): Promise<Placement[]> {
  const placements: Placement[] = [];
  const endAt = Date.now() + options.minSeconds * 1_000;
  let accepted = 0;
  const more = () => accepted < options.orders || Date.now() < endAt;
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (more()) {
        const placement = await client.place(customerId, line);
        placements.push(placement);
        if (placement.status >= 200 && placement.status < 300) accepted += 1;
        else if (placement.retryAfter !== undefined) {
          const seconds = Number(placement.retryAfter);
          if (Number.isFinite(seconds) && seconds > 0) await new Promise((r) => setTimeout(r, seconds * 1_000));
        }
      }
    }),
  );
  return placements;
}

/** Arrivals at `rate` per second for `seconds`, Poisson or evenly spaced, each sent when due. */
export async function openLoop(
  client: OrderClient,
  customerId: string,
  line: OrderLine,
  options: { rate: number; seconds: number; arrivals: 'poisson' | 'fixed' },
): Promise<Placement[]> {
  const start = Date.now();
  const end = start + options.seconds * 1_000;
  const pending: Promise<Placement>[] = [];
  let due = start;
  const gap = () =>
    options.arrivals === 'fixed' ? 1_000 / options.rate : (-Math.log(1 - Math.random()) * 1_000) / options.rate;
  while (due < end) {
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    // Every arrival that is due by now is sent now, each with the time it was due.
    while (due <= Date.now() && due < end) {
      pending.push(client.place(customerId, line, Math.round(due)));
      due += gap();
    }
  }
  return Promise.all(pending);
}
