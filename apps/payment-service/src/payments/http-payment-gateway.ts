/**
 * The payment gateway's HTTP API (the real one, or its simulator). Each call is bounded by the configured timeout,
 * since it runs inside a database transaction; what comes back is mapped, by the pure functions below, to the
 * port's few kinds of answer. An answer the adapter cannot read counts as no answer: the caller retries, and the
 * Idempotency-Key makes the retry the same request.
 */
import { PermanentError } from '@orderflow/messaging';
import { getJson, postJson, SecretBox } from '@orderflow/platform';
import { z } from 'zod';
import type {
  AuthorizationAnswer,
  AuthorizationRequest,
  AuthorizationStatus,
  OperationAnswer,
  PaymentGateway,
} from './payment-gateway.js';

export interface HttpPaymentGatewayOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Where the gateway is to report the results of pending authorisations. */
  callbackUrl: string;
  /** Opens the payment tokens the order service sealed (PAYMENT_TOKEN_KEY). */
  tokens: SecretBox;
}

type Unavailable = Extract<AuthorizationAnswer, { kind: 'unavailable' }>;
type Exchange = { status: number; body: unknown } | { failure: Unavailable };

export class HttpPaymentGateway implements PaymentGateway {
  constructor(private readonly options: HttpPaymentGatewayOptions) {}

  async authorize(request: AuthorizationRequest): Promise<AuthorizationAnswer> {
    const exchange = await this.post(
      '/v1/authorizations',
      {
        amount: request.amount,
        currency: request.currency,
        token: this.clearToken(request),
        reference: request.orderId,
        callbackUrl: this.options.callbackUrl,
      },
      { 'idempotency-key': request.idempotencyKey },
    );
    return 'failure' in exchange ? exchange.failure : authorizationAnswerOf(exchange.status, exchange.body);
  }

  /** The token in the clear, for this call only. A token that does not open would never work: not worth a retry. */
  private clearToken({ paymentToken, orderId }: AuthorizationRequest): string {
    if (!SecretBox.isSealed(paymentToken)) return paymentToken;
    try {
      return this.options.tokens.open(paymentToken, orderId);
    } catch (err) {
      throw new PermanentError(`the payment token of order ${orderId} does not open: ${(err as Error).message}`);
    }
  }

  capture(authorizationId: string): Promise<OperationAnswer> {
    return this.operation(`/v1/authorizations/${encodeURIComponent(authorizationId)}/capture`, {});
  }

  void(authorizationId: string): Promise<OperationAnswer> {
    return this.operation(`/v1/authorizations/${encodeURIComponent(authorizationId)}/void`, {});
  }

  refund(authorizationId: string): Promise<OperationAnswer> {
    return this.operation(`/v1/authorizations/${encodeURIComponent(authorizationId)}/refund`, {});
  }

  reverse(idempotencyKey: string): Promise<OperationAnswer> {
    return this.operation('/v1/reversals', { idempotencyKey });
  }

  async authorization(authorizationId: string): Promise<AuthorizationStatus> {
    try {
      const answer = await getJson(
        new URL(`/v1/authorizations/${encodeURIComponent(authorizationId)}`, this.options.baseUrl),
        {
          timeoutMs: this.options.timeoutMs,
        },
      );
      return authorizationStatusOf(authorizationId, answer.status, parseJson(answer.text));
    } catch (err) {
      return unavailableFrom(err, this.options.timeoutMs);
    }
  }

  private async operation(path: string, body: object): Promise<OperationAnswer> {
    const exchange = await this.post(path, body);
    return 'failure' in exchange ? exchange.failure : operationAnswerOf(exchange.status, exchange.body);
  }

  private async post(path: string, body: object, headers: Record<string, string> = {}): Promise<Exchange> {
    try {
      // The deadline covers reading the body too: a gateway that stalls mid-answer is as late as one that never answers.
      const answer = await postJson(new URL(path, this.options.baseUrl), body, {
        timeoutMs: this.options.timeoutMs,
        headers,
      });
      return { status: answer.status, body: parseJson(answer.text) };
    } catch (err) {
      return { failure: unavailableFrom(err, this.options.timeoutMs) };
    }
  }
}

const Approved = z.object({ authorizationId: z.string().min(1), status: z.literal('approved') });
const Pending = z.object({ authorizationId: z.string().min(1), status: z.literal('pending') });
const Declined = z.object({ status: z.literal('declined'), reason: z.string().optional() });
const GatewayError = z.object({ error: z.string() });

/** Statuses that say "not now": the same request may succeed later. */
function isTransient(status: number, body: unknown): boolean {
  if (status === 409) return GatewayError.safeParse(body).data?.error === 'request_in_progress';
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function describe(status: number, body: unknown): string {
  const error = GatewayError.safeParse(body).data?.error;
  return `the gateway answered ${status}${error ? ` ${error}` : ''}`;
}

export function authorizationAnswerOf(status: number, body: unknown): AuthorizationAnswer {
  if (status >= 200 && status < 300) {
    const approved = Approved.safeParse(body);
    if (approved.success) return { kind: 'approved', authorizationId: approved.data.authorizationId };
    const pending = Pending.safeParse(body);
    if (pending.success) return { kind: 'pending', authorizationId: pending.data.authorizationId };
    const declined = Declined.safeParse(body);
    if (declined.success) return { kind: 'declined', reason: declined.data.reason || 'declined' };
    return { kind: 'unavailable', reason: `the gateway's ${status} answer could not be read` };
  }
  if (status === 402) {
    const declined = Declined.safeParse(body);
    return { kind: 'declined', reason: (declined.success && declined.data.reason) || 'declined' };
  }
  if (isTransient(status, body)) return { kind: 'unavailable', reason: describe(status, body) };
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: describe(status, body) };
  return { kind: 'unavailable', reason: describe(status, body) };
}

const Viewed = z.object({
  status: z.string(),
  reason: z.string().optional(),
  retryAfterMs: z.number().int().min(0).optional(),
});

/**
 * The gateway's view of an authorisation, as the result its callback would have carried. Money held or once held
 * (approved, captured, refunded) is an approval; voided (the request's key was reversed) holds nothing, as a decline.
 */
export function authorizationStatusOf(authorizationId: string, status: number, body: unknown): AuthorizationStatus {
  const view = Viewed.safeParse(body);
  if (status !== 200 || !view.success) return { kind: 'unavailable', reason: describe(status, body) };
  const { reason, retryAfterMs } = view.data;
  switch (view.data.status) {
    case 'pending':
      return { kind: 'pending' };
    case 'approved':
    case 'captured':
    case 'refunded':
      return { kind: 'result', result: { authorizationId, status: 'approved' } };
    case 'declined':
    case 'voided':
      return { kind: 'result', result: { authorizationId, status: 'declined', reason: reason ?? view.data.status } };
    case 'failed':
      return { kind: 'result', result: { authorizationId, status: 'error', reason: reason ?? 'failed', retryAfterMs } };
    default:
      return { kind: 'unavailable', reason: `the gateway reported status ${view.data.status}` };
  }
}

export function operationAnswerOf(status: number, body: unknown): OperationAnswer {
  if (status >= 200 && status < 300) return { kind: 'done' };
  if (isTransient(status, body)) return { kind: 'unavailable', reason: describe(status, body) };
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: describe(status, body) };
  return { kind: 'unavailable', reason: describe(status, body) };
}

/** A call that produced no answer at all: too slow, refused, reset. */
export function unavailableFrom(error: unknown, timeoutMs: number): Unavailable {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'unavailable', reason: `the gateway did not answer within ${timeoutMs} ms` };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error);
  return { kind: 'unavailable', reason: `the gateway could not be reached: ${detail}` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
