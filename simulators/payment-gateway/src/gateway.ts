/**
 * The payment gateway as a merchant sees it, kept in memory: authorisations and what becomes of them, idempotency
 * keys, and the test tokens. No HTTP here; main.ts turns requests into these calls and answers into responses, and
 * keeps the state (`saved`, `restore`) in a file across restarts if told to.
 *
 * Test tokens (any other token is declined with `invalid_token`); anything after a `~` is ignored, so a test can make
 * each of its tokens unique (`tok_ok~3f2a`) and look for it afterwards:
 * - `tok_ok`          approved at once (201).
 * - `tok_declined`    declined (402, reason `card_declined`).
 * - `tok_flaky`       503 `temporarily_unavailable` for the first two requests with an Idempotency-Key, then approved.
 * - `tok_slow`        approved, but the answer comes only after SLOW_DELAY_MS.
 * - `tok_async`       202 `pending`; after ASYNC_DELAY_MS approved, and the result is POSTed to the callbackUrl.
 * - `tok_async_error` like `tok_async`, but the first authorisation for a reference ends `failed` and its callback
 *                     says `{status: 'error', retryAfterMs}`: the merchant is to request a new authorisation (with a
 *                     new Idempotency-Key) after that delay. A failed authorisation holds nothing. Later requests for
 *                     the same reference are approved through the same asynchronous path.
 *
 * Idempotency: the same Idempotency-Key with the same request gets the same answer and never a second authorisation;
 * with another request it gets 422; while its first request is still being processed, 409 `request_in_progress`.
 * Transient failures (503) are not stored as the key's answer, so a retry with the key is processed afresh.
 *
 * Reversal: `reverse(key)` releases whatever the request with that key authorised, now or when it completes. A
 * merchant whose authorisation request timed out reverses its key, since it cannot know whether money is held.
 */
import { createHash, randomUUID } from 'node:crypto';

export interface GatewayOptions {
  slowDelayMs: number;
  asyncDelayMs: number;
  /** How long a transient failure or an error result tells the merchant to wait before retrying. */
  retryAfterMs: number;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export type AuthorizationStatus = 'pending' | 'approved' | 'declined' | 'failed' | 'captured' | 'voided' | 'refunded';

export interface AuthorizationRequest {
  amount: number;
  currency: string;
  token: string;
  reference: string;
  callbackUrl?: string;
}

/** What the gateway POSTs to a callbackUrl once a pending authorisation has a result. */
export interface CallbackPayload {
  authorizationId: string;
  reference: string;
  status: 'approved' | 'declined' | 'error';
  reason?: string;
  /** With `error`: request a new authorisation after this many milliseconds. */
  retryAfterMs?: number;
}

interface Authorization {
  id: string;
  idempotencyKey: string;
  reference: string;
  status: AuthorizationStatus;
  amount: number;
  currency: string;
  authorizedAmount: number;
  capturedAmount: number;
  voidedAmount: number;
  refundedAmount: number;
  reason?: string;
  /** With `failed`: when to request a new authorisation, as the callback says. */
  retryAfterMs?: number;
  /** A pending asynchronous authorisation: when it completes, whether it fails, and where its result goes. */
  completion?: { at: string; fails: boolean; callbackUrl?: string };
  createdAt: string;
  updatedAt: string;
}

interface KeyRecord {
  fingerprint?: string;
  /** The key's final answer, replayed to every later request with the key. */
  answer?: Answer;
  inFlight: boolean;
  transientFailures: number;
  reversed: boolean;
  authorizationId?: string;
}

const FLAKY_FAILURES = 2;

/** One change, as kept across restarts (see PaymentGateway.takeChanges): the last line about a record wins. */
export type GatewayJournalEntry =
  { authorization: Authorization } | { key: [string, KeyRecord] } | { failedOnce: string };

export class PaymentGateway {
  private readonly authorizations = new Map<string, Authorization>();
  private readonly keys = new Map<string, KeyRecord>();
  /** References whose first `tok_async_error` authorisation has failed already. */
  private readonly failedOnce = new Set<string>();
  /** What changed since takeChanges last ran: written to the journal before the answer that reveals it. */
  private readonly changedAuthorizations = new Set<string>();
  private readonly changedKeys = new Set<string>();
  private readonly changedFailedOnce = new Set<string>();

  constructor(
    private readonly options: GatewayOptions,
    private readonly notify: (callbackUrl: string, payload: CallbackPayload) => void,
    /** Told after every change, so the state can be saved. */
    private readonly changed: () => void = () => undefined,
  ) {}

  /** The records changed since the last call, as journal entries (key records never saved as in flight). */
  takeChanges(): GatewayJournalEntry[] {
    const entries: GatewayJournalEntry[] = [
      ...[...this.changedKeys].flatMap((key) => {
        const record = this.keys.get(key);
        return record ? [{ key: [key, { ...record, inFlight: false }] as [string, KeyRecord] }] : [];
      }),
      ...[...this.changedAuthorizations].flatMap((id) => {
        const authorization = this.authorizations.get(id);
        return authorization ? [{ authorization }] : [];
      }),
      ...[...this.changedFailedOnce].map((failedOnce) => ({ failedOnce })),
    ];
    this.changedKeys.clear();
    this.changedAuthorizations.clear();
    this.changedFailedOnce.clear();
    return entries;
  }

  /** Replays journal entries; pending authorisations due while the gateway was down complete now. Returns how many. */
  restore(entries: Iterable<GatewayJournalEntry>): number {
    for (const entry of entries) {
      if ('key' in entry) this.keys.set(entry.key[0], entry.key[1]);
      else if ('authorization' in entry) this.authorizations.set(entry.authorization.id, entry.authorization);
      else if ('failedOnce' in entry) this.failedOnce.add(entry.failedOnce);
    }
    let overdue = 0;
    for (const authorization of this.authorizations.values()) {
      if (authorization.status === 'pending' && authorization.completion) {
        if (Date.parse(authorization.completion.at) <= Date.now()) overdue += 1;
        this.planCompletion(authorization);
      }
    }
    return overdue;
  }

  get size(): number {
    return this.authorizations.size;
  }

  private touch(authorization: Authorization): void {
    authorization.updatedAt = new Date().toISOString();
    this.changedAuthorizations.add(authorization.id);
  }

  private planCompletion(authorization: Authorization): void {
    const completion = authorization.completion;
    if (!completion) return;
    const inMs = Math.max(0, Date.parse(completion.at) - Date.now());
    setTimeout(() => this.complete(authorization, completion.fails, completion.callbackUrl), inMs);
  }

  async authorize(idempotencyKey: string, request: AuthorizationRequest): Promise<Answer> {
    try {
      return await this.authorizeOnce(idempotencyKey, request);
    } finally {
      this.changedKeys.add(idempotencyKey);
      this.changed();
    }
  }

  private async authorizeOnce(idempotencyKey: string, request: AuthorizationRequest): Promise<Answer> {
    const fingerprint = fingerprintOf(request);
    const record = this.keys.get(idempotencyKey) ?? { inFlight: false, transientFailures: 0, reversed: false };
    this.keys.set(idempotencyKey, record);
    if (record.reversed) {
      return { status: 409, body: { error: 'idempotency_key_reversed', authorizationId: record.authorizationId } };
    }
    if (record.fingerprint !== undefined && record.fingerprint !== fingerprint) {
      return { status: 422, body: { error: 'idempotency_key_reused' } };
    }
    record.fingerprint = fingerprint;
    if (record.answer) return record.answer;
    if (record.inFlight) {
      return { status: 409, body: { error: 'request_in_progress', retryAfterMs: this.options.retryAfterMs } };
    }

    const token = request.token.split('~')[0];
    switch (token) {
      case 'tok_ok':
        return this.settle(record, this.approve(this.open(record, idempotencyKey, request)));
      case 'tok_declined':
        return this.settle(record, this.decline(this.open(record, idempotencyKey, request), 'card_declined'));
      case 'tok_flaky':
        if (record.transientFailures < FLAKY_FAILURES) {
          record.transientFailures += 1;
          return { status: 503, body: { error: 'temporarily_unavailable', retryAfterMs: this.options.retryAfterMs } };
        }
        return this.settle(record, this.approve(this.open(record, idempotencyKey, request)));
      case 'tok_slow':
        record.inFlight = true;
        await new Promise((resolve) => setTimeout(resolve, this.options.slowDelayMs));
        record.inFlight = false;
        return this.settle(record, this.approve(this.open(record, idempotencyKey, request)));
      case 'tok_async':
      case 'tok_async_error': {
        const authorization = this.open(record, idempotencyKey, request);
        const fails = token === 'tok_async_error' && !this.failedOnce.has(request.reference);
        if (fails) {
          this.failedOnce.add(request.reference);
          this.changedFailedOnce.add(request.reference);
        }
        const at = new Date(Date.now() + this.options.asyncDelayMs).toISOString();
        authorization.completion = { at, fails, callbackUrl: request.callbackUrl };
        this.planCompletion(authorization);
        return this.settle(record, { status: 202, body: viewOf(authorization) });
      }
      default:
        return this.settle(record, this.decline(this.open(record, idempotencyKey, request), 'invalid_token'));
    }
  }

  capture(id: string): Answer {
    return this.change(id, 'captured', ['approved'], (a) => (a.capturedAmount = a.amount));
  }

  void(id: string): Answer {
    return this.change(id, 'voided', ['approved'], (a) => (a.voidedAmount = a.amount));
  }

  refund(id: string): Answer {
    return this.change(id, 'refunded', ['captured'], (a) => (a.refundedAmount = a.capturedAmount));
  }

  reverse(idempotencyKey: string): Answer {
    const record = this.keys.get(idempotencyKey) ?? { inFlight: false, transientFailures: 0, reversed: false };
    this.keys.set(idempotencyKey, record);
    const authorization = record.authorizationId ? this.authorizations.get(record.authorizationId) : undefined;
    if (authorization?.status === 'captured' || authorization?.status === 'refunded') {
      return { status: 409, body: { error: 'invalid_state', ...viewOf(authorization) } };
    }
    record.reversed = true;
    this.changedKeys.add(idempotencyKey);
    if (authorization?.status === 'approved') this.release(authorization);
    this.changed();
    return {
      status: 200,
      body: { idempotencyKey, status: 'reversed', ...(authorization && { authorizationId: authorization.id }) },
    };
  }

  get(id: string): Answer {
    const authorization = this.authorizations.get(id);
    return authorization ? { status: 200, body: viewOf(authorization) } : notFound();
  }

  byReference(reference: string): Answer {
    const found = [...this.authorizations.values()].filter((a) => a.reference === reference);
    return { status: 200, body: { authorizations: found.map(viewOf) } };
  }

  private open(record: KeyRecord, idempotencyKey: string, request: AuthorizationRequest): Authorization {
    const now = new Date().toISOString();
    const authorization: Authorization = {
      id: `auth_${randomUUID()}`,
      idempotencyKey,
      reference: request.reference,
      status: 'pending',
      amount: request.amount,
      currency: request.currency,
      authorizedAmount: 0,
      capturedAmount: 0,
      voidedAmount: 0,
      refundedAmount: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.authorizations.set(authorization.id, authorization);
    this.changedAuthorizations.add(authorization.id);
    record.authorizationId = authorization.id;
    return authorization;
  }

  private approve(authorization: Authorization): Answer {
    authorization.status = 'approved';
    authorization.authorizedAmount = authorization.amount;
    this.touch(authorization);
    // A request that completes after its key was reversed is released at once: the merchant gave up on it.
    if (this.keys.get(authorization.idempotencyKey)?.reversed) {
      this.release(authorization);
      return { status: 409, body: { error: 'idempotency_key_reversed', authorizationId: authorization.id } };
    }
    return { status: 201, body: viewOf(authorization) };
  }

  private decline(authorization: Authorization, reason: string): Answer {
    authorization.status = 'declined';
    authorization.reason = reason;
    this.touch(authorization);
    return { status: 402, body: { ...viewOf(authorization), reason } };
  }

  private release(authorization: Authorization): void {
    authorization.status = 'voided';
    authorization.voidedAmount = authorization.authorizedAmount;
    this.touch(authorization);
  }

  /** The asynchronous result of a pending authorisation, reported to the merchant's callbackUrl. */
  private complete(authorization: Authorization, fails: boolean, callbackUrl: string | undefined): void {
    if (authorization.status !== 'pending') return;
    authorization.completion = undefined;
    this.touch(authorization);
    if (this.keys.get(authorization.idempotencyKey)?.reversed) {
      this.release(authorization);
      this.changed();
      return;
    }
    let payload: CallbackPayload;
    if (fails) {
      authorization.status = 'failed';
      authorization.reason = 'issuer_unavailable';
      authorization.retryAfterMs = this.options.retryAfterMs;
      this.touch(authorization);
      payload = {
        authorizationId: authorization.id,
        reference: authorization.reference,
        status: 'error',
        reason: authorization.reason,
        retryAfterMs: this.options.retryAfterMs,
      };
    } else {
      this.approve(authorization);
      payload = { authorizationId: authorization.id, reference: authorization.reference, status: 'approved' };
    }
    this.changed();
    if (callbackUrl) this.notify(callbackUrl, payload);
  }

  private change(
    id: string,
    to: AuthorizationStatus,
    from: AuthorizationStatus[],
    apply: (authorization: Authorization) => void,
  ): Answer {
    const authorization = this.authorizations.get(id);
    if (!authorization) return notFound();
    if (authorization.status === to) return { status: 200, body: viewOf(authorization) };
    if (!from.includes(authorization.status)) {
      return { status: 409, body: { error: 'invalid_state', ...viewOf(authorization) } };
    }
    authorization.status = to;
    apply(authorization);
    this.touch(authorization);
    this.changed();
    return { status: 200, body: viewOf(authorization) };
  }

  private settle(record: KeyRecord, answer: Answer): Answer {
    record.answer = answer;
    return answer;
  }
}

/** The request's fields, validated; a string says what is wrong. */
export function parseAuthorizationRequest(body: unknown): AuthorizationRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const { amount, currency, token, reference, callbackUrl } = body as Record<string, unknown>;
  if (!Number.isSafeInteger(amount) || (amount as number) < 0) return 'amount must be a non-negative integer';
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) return 'currency must be an ISO 4217 code';
  if (typeof token !== 'string' || token.length === 0 || token.length > 200) return 'token must be 1–200 characters';
  if (typeof reference !== 'string' || reference.length === 0 || reference.length > 200) {
    return 'reference must be 1–200 characters';
  }
  if (callbackUrl !== undefined && (typeof callbackUrl !== 'string' || !isHttpUrl(callbackUrl))) {
    return 'callbackUrl must be an http(s) URL';
  }
  return { amount: amount as number, currency, token, reference, ...(callbackUrl !== undefined && { callbackUrl }) };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function fingerprintOf(request: AuthorizationRequest): string {
  const { amount, currency, token, reference } = request;
  return createHash('sha256')
    .update(JSON.stringify([amount, currency, token, reference]))
    .digest('hex');
}

function notFound(): Answer {
  return { status: 404, body: { error: 'not_found' } };
}

/** An authorisation as the API shows it, with the money it holds (`heldAmount`) and keeps (`keptAmount`). */
function viewOf(a: Authorization): Record<string, unknown> {
  return {
    authorizationId: a.id,
    reference: a.reference,
    status: a.status,
    amount: a.amount,
    currency: a.currency,
    authorizedAmount: a.authorizedAmount,
    capturedAmount: a.capturedAmount,
    voidedAmount: a.voidedAmount,
    refundedAmount: a.refundedAmount,
    heldAmount: a.authorizedAmount - a.capturedAmount - a.voidedAmount,
    keptAmount: a.capturedAmount - a.refundedAmount,
    ...(a.reason && { reason: a.reason }),
    ...(a.retryAfterMs !== undefined && { retryAfterMs: a.retryAfterMs }),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}
