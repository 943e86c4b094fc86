/**
 * The carrier simulator: a stand-in for the parcel carrier the logistics service books shipments with, speaking the
 * HTTP API its adapter speaks to the real one. For development and tests only: bookings live in this process's
 * memory, and in STATE_FILE if one is given, so that a restart keeps them as a real carrier would.
 *
 *   POST /v1/shipments                  book; `Idempotency-Key` required, the same key gives the same answer;
 *                                       201 booked, 422 COUNTRY_NOT_SERVED (country ZZ), 400 malformed
 *   GET  /v1/shipments/{id}             a booking as the carrier tracks it
 *   POST /v1/shipments/{id}/deliver     testing hook: the parcel is delivered now and the webhook called at once
 *   GET  /health                        200 while the process serves
 *
 * Delivery is reported like a real carrier reports it: DELIVERY_DELAY_MS after booking (0: only through the hook)
 * it POSTs `{shipmentId, reference, deliveredAt}` to the booking's `deliveryWebhookUrl`, retries a few times while
 * the receiver fails, then gives up with a log line. Reports are signed by the Standard Webhooks scheme with
 * WEBHOOK_SECRET (`whsec_…`, required).
 *
 * Lost and late reports, as real carriers lose them: WEBHOOK_DROP_RATE (0–1, default 0) is the share of deliveries
 * whose report is never sent at all (GET /v1/shipments/{id} still says delivered), and WEBHOOK_DELAY_MS (default 0)
 * delays each report's first attempt. STATE_FILE (optional): a journal, one JSON line appended per change before the
 * answer that reveals it, replayed at start; deliveries that fell due while the simulator was down are made then. A
 * report still being retried when the simulator stops is not resumed: the receiver's poll is what covers that.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3011),
  DELIVERY_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 3_600_000)
    .default(5_000),
  WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'expected a whsec_ secret'),
  WEBHOOK_DROP_RATE: z.coerce.number().min(0).max(1).default(0),
  WEBHOOK_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(0),
  STATE_FILE: z.string().min(1).optional(),
});

const WEBHOOK_ATTEMPTS = 5;
const WEBHOOK_FIRST_RETRY_MS = 1_000;
const WEBHOOK_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 64 * 1024;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** The one country this carrier does not serve; any other ISO 3166-1 alpha-2 code is served. */
const NOT_SERVED = 'ZZ';

const bookingRequestSchema = z.object({
  reference: z.string().min(1).max(100),
  recipient: z.object({
    name: z.string().min(1).max(200),
    line1: z.string().min(1).max(200),
    line2: z.string().max(200).optional(),
    city: z.string().min(1).max(100),
    postalCode: z.string().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code'),
  }),
  parcels: z
    .array(z.object({ sku: z.string().min(1).max(64), quantity: z.int().min(1).max(1_000_000) }))
    .min(1)
    .max(100),
  deliveryWebhookUrl: z.url({ protocol: /^https?$/ }).optional(),
});

interface Booking {
  shipmentId: string;
  trackingNumber: string;
  reference: string;
  status: 'booked' | 'delivered';
  bookedAt: string;
  /** When the parcel is to arrive by itself (DELIVERY_DELAY_MS after booking); kept so a restart still delivers it. */
  deliverAt?: string;
  deliveredAt?: string;
  webhookUrl?: string;
  deliveryTimer?: NodeJS.Timeout;
}

/** One line of STATE_FILE: a booking as it now is, or the answer given to an Idempotency-Key. */
type JournalEntry =
  { booking: Omit<Booking, 'deliveryTimer'> } | { answer: [string, { requestHash: string; answer: Answer }] };

interface Answer {
  status: number;
  body: object;
}

const config = readConfig();
const signer = new Webhook(config.WEBHOOK_SECRET);
const bookings = new Map<string, Booking>();
/** Idempotency-Key → the hash of the request it came with and the answer given. */
const answers = new Map<string, { requestHash: string; answer: Answer }>();
/** Webhook retries waiting for their turn, so a shutdown can cancel them. */
const retries = new Set<NodeJS.Timeout>();

function readConfig(): z.infer<typeof configSchema> {
  // An empty variable counts as unset, as in the services' configuration.
  const env = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    log('fatal', 'invalid configuration', { variable: issue.path.join('.'), problem: issue.message });
  }
  process.exit(78);
}

function log(level: 'info' | 'warn' | 'error' | 'fatal', message: string, fields: object = {}): void {
  process.stdout.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), service: 'carrier-simulator', message, ...fields })}\n`,
  );
}

function book(key: string, request: z.infer<typeof bookingRequestSchema>): Answer {
  // The schema's output lists fields in its own order, so two equal requests hash alike however they were written.
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  const earlier = answers.get(key);
  if (earlier) {
    if (earlier.requestHash === requestHash) return earlier.answer;
    return {
      status: 422,
      body: { code: 'IDEMPOTENCY_KEY_REUSED', message: 'this Idempotency-Key was used with another request' },
    };
  }
  let answer: Answer;
  if (request.recipient.country === NOT_SERVED) {
    answer = {
      status: 422,
      body: { code: 'COUNTRY_NOT_SERVED', message: `no delivery to ${NOT_SERVED}` },
    };
  } else {
    const booking: Booking = {
      shipmentId: randomUUID(),
      trackingNumber: `CS${randomInt(100_000_000, 1_000_000_000)}SIM`,
      reference: request.reference,
      status: 'booked',
      bookedAt: new Date().toISOString(),
      webhookUrl: request.deliveryWebhookUrl,
    };
    bookings.set(booking.shipmentId, booking);
    if (config.DELIVERY_DELAY_MS > 0 && booking.webhookUrl) {
      booking.deliverAt = new Date(Date.now() + config.DELIVERY_DELAY_MS).toISOString();
      planDelivery(booking);
    }
    answer = {
      status: 201,
      body: { shipmentId: booking.shipmentId, trackingNumber: booking.trackingNumber, status: 'booked' },
    };
  }
  answers.set(key, { requestHash, answer });
  if (answer.status === 201)
    record({ booking: saved(bookings.get((answer.body as { shipmentId: string }).shipmentId)!) });
  record({ answer: [key, { requestHash, answer }] });
  return answer;
}

function planDelivery(booking: Booking): void {
  if (!booking.deliverAt || booking.status !== 'booked') return;
  const inMs = Math.max(0, Date.parse(booking.deliverAt) - Date.now());
  booking.deliveryTimer = setTimeout(() => deliver(booking), inMs);
}

/** The parcel arrives (once; a later call reports the same delivery again) and the webhook is told, unless dropped. */
function deliver(booking: Booking): void {
  clearTimeout(booking.deliveryTimer);
  booking.deliveryTimer = undefined;
  booking.status = 'delivered';
  booking.deliveredAt ??= new Date().toISOString();
  record({ booking: saved(booking) });
  if (!booking.webhookUrl) return;
  if (Math.random() < config.WEBHOOK_DROP_RATE) {
    log('warn', 'delivery report dropped', { shipmentId: booking.shipmentId, reference: booking.reference });
    return;
  }
  const timer = setTimeout(() => {
    retries.delete(timer);
    void reportDelivery(booking, 1);
  }, config.WEBHOOK_DELAY_MS);
  retries.add(timer);
}

const saved = ({ deliveryTimer: _timer, ...booking }: Booking): Omit<Booking, 'deliveryTimer'> => booking;

/**
 * Appends a change to STATE_FILE before the answer that reveals it is sent, as a real carrier commits a booking before
 * confirming it: a simulator killed right after answering must not forget what it answered. One line per change, so
 * a change costs one small append however many bookings there are; the last line about a booking wins on load.
 */
function record(entry: JournalEntry): void {
  if (config.STATE_FILE) appendFileSync(config.STATE_FILE, `${JSON.stringify(entry)}\n`);
}

/** Replays STATE_FILE, and makes the deliveries that fell due while the simulator was down. */
function load(): void {
  if (!config.STATE_FILE || !existsSync(config.STATE_FILE)) return;
  for (const line of readFileSync(config.STATE_FILE, 'utf8').split('\n')) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      continue; // an empty line, or the last one cut short by a crash mid-append (its answer was never sent)
    }
    if ('booking' in entry) bookings.set(entry.booking.shipmentId, { ...entry.booking });
    else if ('answer' in entry) answers.set(entry.answer[0], entry.answer[1]);
  }
  let overdue = 0;
  for (const booking of bookings.values()) {
    if (booking.status === 'booked' && booking.deliverAt && Date.parse(booking.deliverAt) <= Date.now()) overdue += 1;
    planDelivery(booking);
  }
  log('info', 'state loaded', { file: config.STATE_FILE, bookings: bookings.size, overdueDeliveries: overdue });
}

async function reportDelivery(booking: Booking, attempt: number): Promise<void> {
  if (!booking.webhookUrl) return;
  const fields = { shipmentId: booking.shipmentId, reference: booking.reference, webhook: booking.webhookUrl, attempt };
  let failure: string;
  try {
    const body = JSON.stringify({
      shipmentId: booking.shipmentId,
      reference: booking.reference,
      deliveredAt: booking.deliveredAt,
    });
    // The same id on every attempt: one delivery, reported until acknowledged.
    const id = `msg_${booking.shipmentId}`;
    const now = new Date();
    const res = await fetch(booking.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(id, now, body),
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) {
      log('info', 'delivery reported', { ...fields, status: res.status });
      return;
    }
    failure = `HTTP ${res.status}`;
  } catch (err) {
    failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  if (attempt >= WEBHOOK_ATTEMPTS) {
    log('error', 'gave up reporting delivery', { ...fields, failure });
    return;
  }
  // The receiver may not know the shipment yet (its booking commits after our answer) or may be down: try later.
  const delayMs = WEBHOOK_FIRST_RETRY_MS * 2 ** (attempt - 1);
  log('warn', 'delivery report failed; will retry', { ...fields, failure, retryInMs: delayMs });
  const timer = setTimeout(() => {
    retries.delete(timer);
    void reportDelivery(booking, attempt + 1);
  }, delayMs);
  retries.add(timer);
}

function view(booking: Booking): object {
  return {
    shipmentId: booking.shipmentId,
    trackingNumber: booking.trackingNumber,
    reference: booking.reference,
    status: booking.status,
    bookedAt: booking.bookedAt,
    ...(booking.deliveredAt && { deliveredAt: booking.deliveredAt }),
  };
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
  ) {
    super(JSON.stringify(body));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, { code: 'PAYLOAD_TOO_LARGE' });
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BadRequest(400, { code: 'MALFORMED_REQUEST', message: 'the body is not JSON' });
  }
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<Answer> {
  const url = new URL(req.url ?? '/', 'http://carrier');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';

  if (path === '/health' && method === 'GET') return { status: 200, body: { status: 'ok' } };

  if (path === '/v1/shipments' && method === 'POST') {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      throw new BadRequest(400, {
        code: 'IDEMPOTENCY_KEY_REQUIRED',
        message: 'Idempotency-Key must be 1–255 visible ASCII characters',
      });
    }
    res.setHeader('idempotency-key', key);
    const parsed = bookingRequestSchema.safeParse(await readJson(req));
    if (!parsed.success) {
      throw new BadRequest(400, {
        code: 'MALFORMED_REQUEST',
        errors: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
      });
    }
    return book(key, parsed.data);
  }

  const match = /^\/v1\/shipments\/([^/]+)(\/deliver)?$/.exec(path);
  if (match) {
    const booking = bookings.get(decodeURIComponent(match[1]));
    if (match[2] && method === 'POST') {
      if (!booking) return { status: 404, body: { code: 'SHIPMENT_NOT_FOUND' } };
      deliver(booking);
      return { status: 202, body: view(booking) };
    }
    if (!match[2] && method === 'GET') {
      return booking ? { status: 200, body: view(booking) } : { status: 404, body: { code: 'SHIPMENT_NOT_FOUND' } };
    }
    return { status: 405, body: { code: 'METHOD_NOT_ALLOWED' } };
  }
  return { status: 404, body: { code: 'NOT_FOUND' } };
}

const server = createServer((req, res) => {
  const started = performance.now();
  res.on('finish', () =>
    log('info', 'request', {
      method: req.method,
      path: req.url,
      status: res.statusCode,
      durationMs: Math.round(performance.now() - started),
      ...(typeof req.headers['idempotency-key'] === 'string' && { idempotencyKey: req.headers['idempotency-key'] }),
      // As a carrier that traces would see it: the caller's W3C trace context (test/tracing.e2e-spec.ts reads it).
      ...(typeof req.headers.traceparent === 'string' && { traceparent: req.headers.traceparent }),
    }),
  );
  route(req, res).then(
    (answer) => send(res, answer),
    (err: unknown) => {
      if (err instanceof BadRequest) return send(res, err);
      log('error', 'request failed', { reason: err instanceof Error ? err.message : String(err) });
      send(res, { status: 500, body: { code: 'INTERNAL_ERROR' } });
    },
  );
});

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
}

function stop(signal: NodeJS.Signals): void {
  log('info', 'shutting down', { signal });
  for (const booking of bookings.values()) clearTimeout(booking.deliveryTimer);
  for (const timer of retries) clearTimeout(timer);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

load();
server.listen(config.PORT, () => {
  const address = server.address();
  log('info', 'carrier simulator listening', {
    port: typeof address === 'object' && address ? address.port : config.PORT,
    deliveryDelayMs: config.DELIVERY_DELAY_MS,
    webhookDropRate: config.WEBHOOK_DROP_RATE,
    webhookDelayMs: config.WEBHOOK_DELAY_MS,
  });
});
