/**
 * The payment gateway as this service needs it: a port with two adapters, the real gateway's HTTP API and its
 * simulator (same API). Every answer is one of a few kinds, so the payment decides on meaning, never on HTTP.
 */

export interface AuthorizationRequest {
  orderId: string;
  amount: number;
  currency: string;
  /**
   * The card's token as the order service sealed it for this order (SecretBox, bound to the order id): the adapter
   * opens it for the call, so the clear token lives only there. One from before sealing (clear) is used as it is.
   */
  paymentToken: string;
  /** Same key, same answer: the gateway never authorises twice for one key. */
  idempotencyKey: string;
}

export type AuthorizationAnswer =
  | { kind: 'approved'; authorizationId: string }
  /** The result comes later, by callback (see AuthorizationResult). */
  | { kind: 'pending'; authorizationId: string }
  | { kind: 'declined'; reason: string }
  /** The gateway refused the request itself (malformed, key misused): asking again cannot help. */
  | { kind: 'rejected'; reason: string }
  /** No usable answer (timeout, 5xx, unreachable): unknown whether money is held; asking again may help. */
  | { kind: 'unavailable'; reason: string };

export type OperationAnswer =
  { kind: 'done' } | { kind: 'rejected'; reason: string } | { kind: 'unavailable'; reason: string };

/** What the gateway reports later about a pending authorisation. */
export type AuthorizationResult =
  | { authorizationId: string; status: 'approved' }
  | { authorizationId: string; status: 'declined'; reason: string }
  /** Nothing is held. With `retryAfterMs` the gateway asks for a new authorisation request after that delay. */
  | { authorizationId: string; status: 'error'; reason: string; retryAfterMs?: number };

/** Where a pending authorisation stands when asked: still pending, its result, or no usable answer. */
export type AuthorizationStatus =
  { kind: 'pending' } | { kind: 'result'; result: AuthorizationResult } | { kind: 'unavailable'; reason: string };

export abstract class PaymentGateway {
  abstract authorize(request: AuthorizationRequest): Promise<AuthorizationAnswer>;
  abstract capture(authorizationId: string): Promise<OperationAnswer>;
  abstract void(authorizationId: string): Promise<OperationAnswer>;
  abstract refund(authorizationId: string): Promise<OperationAnswer>;
  /**
   * Releases whatever the authorisation request sent with this key authorised, now or when it completes: the way
   * out of a request whose answer never came.
   */
  abstract reverse(idempotencyKey: string): Promise<OperationAnswer>;
  /** The authorisation's status, for a result whose callback may never come. */
  abstract authorization(authorizationId: string): Promise<AuthorizationStatus>;
}
