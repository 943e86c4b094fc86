/**
 * A payment gateway simulator for development and tests: a small HTTP server with the API of a card payment
 * provider, test tokens for each behaviour a merchant must survive (see gateway.ts), in-memory state (kept in
 * STATE_FILE across restarts if given), and one JSON log line per request. Not part of orderflow: it stands in for
 * the third party.
 *
 *   POST /v1/authorizations                 {amount, currency, token, reference, callbackUrl?} + Idempotency-Key
 *                                            → 201 approved | 202 pending | 402 declined | 503 | 409 | 422 | 400
 *   POST /v1/authorizations/{id}/capture    → 200 captured (idempotent) | 409 invalid_state | 404
 *   POST /v1/authorizations/{id}/void       → 200 voided (idempotent) | 409 invalid_state | 404
 *   POST /v1/authorizations/{id}/refund     → 200 refunded (idempotent) | 409 invalid_state | 404
 *   POST /v1/reversals                      {idempotencyKey} → 200: what that request authorised is released
 *   GET  /v1/authorizations/{id}            state and amounts (authorised, captured, voided, refunded, held, kept)
 *   GET  /v1/authorizations?reference=      every authorisation made for a reference
 *   GET  /health
 *
 * Environment: PORT (3010), SLOW_DELAY_MS (10000), ASYNC_DELAY_MS (1000), RETRY_AFTER_MS (200), and WEBHOOK_SECRET
 * (required, `whsec_…`): callbacks are signed by the Standard Webhooks scheme, as real gateways sign theirs.
 *
 * Lost and late callbacks, as real gateways lose them: WEBHOOK_DROP_RATE (0–1, default 0) is the share of results
 * whose callback is never sent at all (GET /v1/authorizations/{id} still tells the result), and WEBHOOK_DELAY_MS
 * (default 0) delays each callback's first attempt. STATE_FILE (optional): a journal, one JSON line appended per
 * changed record before the answer that reveals it, replayed at start; pending authorisations that fell due while the
 * simulator was down complete then. A callback still being retried when the simulator stops is not resumed: the merchant's poll is
 * what covers that.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import {
  type Answer,
  type CallbackPayload,
  parseAuthorizationRequest,
  PaymentGateway,
  type GatewayJournalEntry,
} from './gateway.js';

const SERVICE = 'payment-gateway-simulator';
const MAX_BODY_BYTES = 64 * 1024;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const CALLBACK_ATTEMPTS = 5;
const CALLBACK_TIMEOUT_MS = 2_000;

function log(level: 'info' | 'warn' | 'error' | 'fatal', message: string, fields: object = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), service: SERVICE, message, ...fields });
  (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
}

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    log('fatal', `invalid configuration: ${name}: expected an integer from ${min} to ${max}`);
    process.exit(78);
  }
  return value;
}

function rateFromEnv(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    log('fatal', `invalid configuration: ${name}: expected a number from 0 to 1`);
    process.exit(78);
  }
  return value;
}

function secretFromEnv(name: string): Webhook {
  const raw = process.env[name] ?? '';
  if (!/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(raw)) {
    log('fatal', `invalid configuration: ${name}: expected a whsec_ secret`);
    process.exit(78);
  }
  return new Webhook(raw);
}

const port = intFromEnv('PORT', 3010, 0, 65535);
const signer = secretFromEnv('WEBHOOK_SECRET');
const dropRate = rateFromEnv('WEBHOOK_DROP_RATE');
const webhookDelayMs = intFromEnv('WEBHOOK_DELAY_MS', 0, 0, 3_600_000);
const stateFile = process.env.STATE_FILE || undefined;
const gateway = new PaymentGateway(
  {
    slowDelayMs: intFromEnv('SLOW_DELAY_MS', 10_000, 0, 600_000),
    asyncDelayMs: intFromEnv('ASYNC_DELAY_MS', 1_000, 0, 600_000),
    retryAfterMs: intFromEnv('RETRY_AFTER_MS', 200, 0, 600_000),
  },
  (url, payload) => {
    if (Math.random() < dropRate) {
      log('warn', 'callback dropped', { url, authorizationId: payload.authorizationId, result: payload.status });
      return;
    }
    setTimeout(() => void deliverCallback(url, payload), webhookDelayMs);
  },
  () => record(),
);

/**
 * Appends what changed to STATE_FILE before the answer that reveals it is sent (the gateway calls back synchronously
 * at the end of each change), as a real gateway commits an authorisation before confirming it: a simulator killed
 * right after answering must not forget what it answered. One line per changed record, so a change costs a small
 * append however many authorisations there are.
 */
function record(): void {
  const changes = gateway.takeChanges();
  if (stateFile && changes.length) appendFileSync(stateFile, changes.map((c) => `${JSON.stringify(c)}\n`).join(''));
}

if (stateFile && existsSync(stateFile)) {
  const entries = readFileSync(stateFile, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as GatewayJournalEntry];
      } catch {
        return []; // an empty line, or the last one cut short by a crash mid-append (its answer was never sent)
      }
    });
  const overdue = gateway.restore(entries);
  log('info', 'state loaded', { file: stateFile, authorizations: gateway.size, overdue });
}

/** POSTs a result to the merchant, retrying with backoff until it answers 2xx or the attempts run out. */
async function deliverCallback(url: string, payload: CallbackPayload): Promise<void> {
  // One id for every attempt of one callback, so the receiver can tell a retry from a new result.
  const id = `msg_${randomUUID()}`;
  const body = JSON.stringify(payload);
  for (let attempt = 1; attempt <= CALLBACK_ATTEMPTS; attempt += 1) {
    const fields = { url, attempt, authorizationId: payload.authorizationId, result: payload.status };
    try {
      const now = new Date();
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signer.sign(id, now, body),
        },
        body,
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      await res.body?.cancel();
      log(res.ok ? 'info' : 'warn', 'callback delivered', { ...fields, status: res.status });
      if (res.ok) return;
    } catch (err) {
      log('warn', 'callback failed', { ...fields, error: (err as Error).message });
    }
    if (attempt < CALLBACK_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
  }
  log('error', 'callback abandoned', { url, authorizationId: payload.authorizationId });
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(error);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, 'body_too_large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new BadRequest(400, 'invalid_json');
  }
}

async function route(req: IncomingMessage, url: URL): Promise<Answer> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (method === 'GET' && path === '/health') return { status: 200, body: { status: 'ok' } };

  if (path === '/v1/authorizations') {
    if (method === 'GET') {
      const reference = url.searchParams.get('reference');
      if (!reference) return { status: 400, body: { error: 'invalid_request', detail: 'reference is required' } };
      return gateway.byReference(reference);
    }
    if (method !== 'POST') return { status: 405, body: { error: 'method_not_allowed' } };
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return { status: 400, body: { error: 'idempotency_key_required' } };
    }
    const request = parseAuthorizationRequest(await readJson(req));
    if (typeof request === 'string') return { status: 400, body: { error: 'invalid_request', detail: request } };
    return gateway.authorize(key, request);
  }

  const operation = /^\/v1\/authorizations\/([^/]+)\/(capture|void|refund)$/.exec(path);
  if (operation) {
    if (method !== 'POST') return { status: 405, body: { error: 'method_not_allowed' } };
    const [, id, action] = operation;
    if (action === 'capture') return gateway.capture(id);
    return action === 'void' ? gateway.void(id) : gateway.refund(id);
  }

  const one = /^\/v1\/authorizations\/([^/]+)$/.exec(path);
  if (one && method === 'GET') return gateway.get(one[1]);

  if (path === '/v1/reversals' && method === 'POST') {
    const body = (await readJson(req)) as { idempotencyKey?: unknown } | null;
    const key = body?.idempotencyKey;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return { status: 400, body: { error: 'invalid_request', detail: 'idempotencyKey is required' } };
    }
    return gateway.reverse(key);
  }
  return { status: 404, body: { error: 'not_found' } };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'http://localhost');
  let answer: Answer;
  try {
    answer = await route(req, url);
  } catch (err) {
    if (!(err instanceof BadRequest)) log('error', 'request failed', { error: (err as Error).stack });
    answer =
      err instanceof BadRequest
        ? { status: err.status, body: { error: err.error } }
        : { status: 500, body: { error: 'internal_error' } };
  }
  const idempotencyKey = req.headers['idempotency-key'];
  log('info', 'request', {
    method: req.method,
    path: url.pathname,
    status: answer.status,
    durationMs: Math.round(performance.now() - started),
    ...(typeof idempotencyKey === 'string' && { idempotencyKey }),
    // As a gateway that traces would see it: the caller's W3C trace context (test/tracing.e2e-spec.ts reads it).
    ...(typeof req.headers.traceparent === 'string' && { traceparent: req.headers.traceparent }),
    // A merchant that timed out has gone by the time a slow answer is ready.
    ...(res.destroyed && { clientGone: true }),
  });
  if (res.destroyed) return;
  const retryAfterMs = answer.body.retryAfterMs;
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    ...(typeof retryAfterMs === 'number' && { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) }),
  });
  res.end(JSON.stringify(answer.body));
}

const server = createServer((req, res) => void handle(req, res));
server.listen(port, () => log('info', `${SERVICE} listening`, { port, webhookDropRate: dropRate, webhookDelayMs }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log('info', 'shutting down', { signal });
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
