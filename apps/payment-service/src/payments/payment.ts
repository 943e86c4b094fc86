/**
 * The payment of one order: how much the customer's card is asked for, and where that stands at the gateway.
 * It decides; the edges call the gateway and send the messages. Money is held or kept at most once per order:
 * one payment per order, one Idempotency-Key per authorisation request, and a payment the saga has asked to
 * release is released whatever the gateway reports afterwards.
 *
 * PENDING ─approved─▶ AUTHORIZED ─capture─▶ CAPTURED ─refund─▶ REFUNDED
 *    │                    └─void─▶ VOIDED
 *    └─declined / no answer in time / error not to be retried─▶ DECLINED
 *
 * Some gateway work must happen after the message or callback that caused it: a new authorisation request the
 * gateway asked for, the reversal of a request that never answered, the void of an approval that came after the
 * saga gave up on it. That work is a follow-up with a due time, kept with the payment and done by GatewayFollowUps
 * when it falls due (the durable scheduler runs it, ADR 0021), retried with backoff until it succeeds. The payment
 * decides what is due and when; the edges only carry it out.
 *
 * A pending authorisation's result may never be reported (a lost callback): the gateway is then asked for it on a
 * schedule (authorization-poll.ts), and if the poll's window ends without one, the payment is given up like a request
 * that never answered (recordNoResult).
 */
import type {
  AuthorizationAnswer,
  AuthorizationRequest,
  AuthorizationResult,
  OperationAnswer,
} from './payment-gateway.js';

export const PAYMENT_STATUSES = ['PENDING', 'AUTHORIZED', 'CAPTURED', 'DECLINED', 'VOIDED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export type DeclineCode = 'DECLINED' | 'TIMED_OUT' | 'GATEWAY_ERROR';

export type FollowUpAction = 'REAUTHORIZE' | 'REVERSE' | 'VOID';

export interface FollowUp {
  action: FollowUpAction;
  dueAt: string;
  /** Failed tries so far; the next try waits longer. */
  failures: number;
}

export interface PaymentState {
  id: string;
  orderId: string;
  status: PaymentStatus;
  amount: number;
  currency: string;
  /** Kept only while the payment is PENDING, in case the gateway asks for a new authorisation request. */
  paymentToken?: string;
  authorizationId?: string;
  /** Authorisation requests made (or due) so far; the number is part of the request's Idempotency-Key. */
  authorizationRequests: number;
  authorizedAt?: string;
  declineCode?: DeclineCode;
  declineReason?: string;
  /** The saga asked to release this payment (void or refund) before the gateway had answered. */
  voidRequestedAt?: string;
  followUp?: FollowUp;
  /** The conversation the payment belongs to, so late events carry it on. */
  correlationId?: string;
  createdAt: string;
  updatedAt: string;
}

/** What the payment tells the saga; the message edge turns each into its contract message. */
export type PaymentEvent =
  | { type: 'authorized' }
  | { type: 'declined'; code: DeclineCode; reason: string }
  | { type: 'captured' }
  | { type: 'voided' }
  | { type: 'refunded'; amount: number };

/** A call the gateway must make before the change it enables is recorded. */
export interface GatewayCall {
  operation: 'capture' | 'void' | 'refund';
  authorizationId: string;
}

export type FollowUpCall =
  | { action: 'REAUTHORIZE'; request: AuthorizationRequest }
  | { action: 'REVERSE'; idempotencyKey: string }
  | { action: 'VOID'; authorizationId: string };

/** The outcome of a change: whether the payment changed (and must be saved) and what to tell the saga. */
export interface Change {
  changed: boolean;
  events: PaymentEvent[];
}

/** The first request, a re-request the gateway asked for, and so on. */
export const MAX_AUTHORIZATION_REQUESTS = 3;
/** Tries of a re-request that get no answer before the step is reported TIMED_OUT. */
export const MAX_REAUTHORIZATION_FAILURES = 5;
/** The currency of a payment released before any authorisation (ISO 4217 "no currency"). */
export const NO_CURRENCY = 'XXX';

const FOLLOW_UP_BASE_DELAY_MS = 500;
const FOLLOW_UP_MAX_DELAY_MS = 60_000;
const REASON_MAX_LENGTH = 500;

export class PaymentNotCapturable extends Error {
  constructor(readonly status: PaymentStatus) {
    super(`a payment that is ${status} cannot be captured`);
  }
}

export class PaymentNotVoidable extends Error {
  constructor(readonly status: PaymentStatus) {
    super(`a payment that is ${status} cannot be voided; a captured payment is refunded`);
  }
}

/** How long a follow-up waits after its `failures`-th failed try: doubling from half a second, at most a minute. */
export function followUpRetryDelay(failures: number): number {
  return Math.min(FOLLOW_UP_MAX_DELAY_MS, FOLLOW_UP_BASE_DELAY_MS * 2 ** (Math.max(failures, 1) - 1));
}

/** The first request is keyed by the order id alone, so any retry of it anywhere is the same request. */
export function idempotencyKeyFor(orderId: string, request: number): string {
  return request === 1 ? orderId : `${orderId}.${request}`;
}

export class Payment {
  private constructor(private state: PaymentState) {}

  /**
   * The payment as the gateway's answer to the first authorisation request leaves it. `unavailable` is passed
   * only once the step's attempts are over: the step is reported TIMED_OUT, and the request is reversed in case
   * the gateway authorised it after all.
   */
  static open(
    input: {
      id: string;
      orderId: string;
      amount: number;
      currency: string;
      paymentToken: string;
      correlationId?: string;
      now: Date;
    },
    answer: AuthorizationAnswer,
  ): { payment: Payment; events: PaymentEvent[] } {
    const at = input.now.toISOString();
    const payment = new Payment({
      id: input.id,
      orderId: input.orderId,
      status: 'PENDING',
      amount: input.amount,
      currency: input.currency,
      paymentToken: input.paymentToken,
      authorizationRequests: 1,
      correlationId: input.correlationId,
      createdAt: at,
      updatedAt: at,
    });
    return { payment, events: payment.answered(answer, input.now) };
  }

  /**
   * The saga released an order's payment before its authorisation was handled (a command overtaken by its
   * compensation). Recorded, so that the authorisation request, when it comes, holds nothing.
   */
  static releasedBeforeAuthorization(input: { id: string; orderId: string; now: Date }): Payment {
    const at = input.now.toISOString();
    return new Payment({
      id: input.id,
      orderId: input.orderId,
      status: 'VOIDED',
      amount: 0,
      currency: NO_CURRENCY,
      authorizationRequests: 1,
      voidRequestedAt: at,
      createdAt: at,
      updatedAt: at,
    });
  }

  static restore(state: PaymentState): Payment {
    return new Payment(state);
  }

  get snapshot(): Readonly<PaymentState> {
    return this.state;
  }

  /** The Idempotency-Key of the latest authorisation request. */
  get idempotencyKey(): string {
    return idempotencyKeyFor(this.state.orderId, this.state.authorizationRequests);
  }

  /** The answer to a re-sent authorisation command: the first one's outcome again, or nothing while PENDING. */
  authorizationOutcome(): PaymentEvent[] {
    const s = this.state;
    if (s.status === 'PENDING') return [];
    if (s.authorizedAt) return [{ type: 'authorized' }];
    if (s.status === 'DECLINED') {
      return [{ type: 'declined', code: s.declineCode ?? 'DECLINED', reason: s.declineReason ?? 'declined' }];
    }
    return [
      { type: 'declined', code: 'DECLINED', reason: 'the payment was released before the gateway authorised it' },
    ];
  }

  /**
   * A result the gateway reports later for a pending authorisation. Nothing changes for a result about another
   * authorisation or one already recorded: callbacks may be repeated or arrive late.
   */
  recordResult(result: AuthorizationResult, now: Date): Change {
    const s = this.state;
    if (s.status !== 'PENDING' || !s.authorizationId || result.authorizationId !== s.authorizationId) {
      return { changed: false, events: [] };
    }
    if (result.status === 'approved') {
      return { changed: true, events: this.answered({ kind: 'approved', authorizationId: s.authorizationId }, now) };
    }
    if (s.voidRequestedAt) {
      this.update({ status: 'VOIDED', paymentToken: undefined }, now);
      return { changed: true, events: [] };
    }
    if (result.status === 'declined') {
      return { changed: true, events: this.answered({ kind: 'declined', reason: result.reason }, now) };
    }
    if (result.retryAfterMs === undefined || s.authorizationRequests >= MAX_AUTHORIZATION_REQUESTS) {
      return {
        changed: true,
        events: this.decline('GATEWAY_ERROR', `the gateway could not authorise: ${result.reason}`, now),
      };
    }
    // The gateway asks for a new request: a new key (the failed one holds nothing), sent when it says.
    const dueAt = new Date(now.getTime() + result.retryAfterMs).toISOString();
    this.update(
      {
        authorizationRequests: s.authorizationRequests + 1,
        authorizationId: undefined,
        followUp: { action: 'REAUTHORIZE', dueAt, failures: 0 },
      },
      now,
    );
    return { changed: true, events: [] };
  }

  /** The authorisation whose result the gateway is to report later, if the payment waits for one. */
  get awaitedAuthorization(): string | undefined {
    const s = this.state;
    return s.status === 'PENDING' && s.authorizationId && !s.followUp ? s.authorizationId : undefined;
  }

  /**
   * No result for the pending authorisation came, by callback or by asking, within the poll's window. Given up as a
   * request that never answered: the step is reported TIMED_OUT (so the saga compensates, as for any failed
   * authorisation, if it still waits), and the request's key is reversed, so that an approval the gateway still
   * makes holds nothing. A payment the saga already released is VOIDED, the key reversed all the same.
   */
  recordNoResult(reason: string, now: Date): Change {
    if (!this.awaitedAuthorization) return { changed: false, events: [] };
    const reverse: FollowUp = { action: 'REVERSE', dueAt: now.toISOString(), failures: 0 };
    if (this.state.voidRequestedAt) {
      this.update({ status: 'VOIDED', paymentToken: undefined, followUp: reverse }, now);
      return { changed: true, events: [] };
    }
    return { changed: true, events: this.answered({ kind: 'unavailable', reason }, now) };
  }

  /** What the gateway must do before a capture is recorded; throws if this payment cannot be captured. */
  gatewayCallToCapture(): GatewayCall | undefined {
    const s = this.state;
    if (s.status === 'CAPTURED') return undefined;
    // An approval that arrived after the saga asked to release it is being voided, never captured.
    if (s.status !== 'AUTHORIZED' || s.voidRequestedAt || !s.authorizationId) throw new PaymentNotCapturable(s.status);
    return { operation: 'capture', authorizationId: s.authorizationId };
  }

  /** Records a capture the gateway has made (or made before: the saga may ask again). */
  recordCapture(now: Date): Change {
    this.gatewayCallToCapture();
    if (this.state.status === 'CAPTURED') return { changed: false, events: [{ type: 'captured' }] };
    this.update({ status: 'CAPTURED' }, now);
    return { changed: true, events: [{ type: 'captured' }] };
  }

  /** What the gateway must do before a void is recorded; throws for money already captured. */
  gatewayCallToVoid(): GatewayCall | undefined {
    const s = this.state;
    if (s.status === 'CAPTURED' || s.status === 'REFUNDED') throw new PaymentNotVoidable(s.status);
    return s.status === 'AUTHORIZED' && s.authorizationId
      ? { operation: 'void', authorizationId: s.authorizationId }
      : undefined;
  }

  /**
   * Records the saga's void, once the gateway has released what was held. Always answered: a PENDING payment
   * remembers it, and a later approval is voided (see recordResult); with nothing held there is nothing to release.
   */
  recordVoid(now: Date): Change {
    this.gatewayCallToVoid();
    return { changed: this.release(now), events: [{ type: 'voided' }] };
  }

  /** What the gateway must do before a refund is recorded: refund what was captured, release what is only held. */
  gatewayCallToRefund(): GatewayCall | undefined {
    const s = this.state;
    if (!s.authorizationId) return undefined;
    if (s.status === 'CAPTURED') return { operation: 'refund', authorizationId: s.authorizationId };
    if (s.status === 'AUTHORIZED') return { operation: 'void', authorizationId: s.authorizationId };
    return undefined;
  }

  /** Records the saga's refund, once the gateway has made it. Always answered, with the amount given back. */
  recordRefund(now: Date): Change {
    const s = this.state;
    if (s.status === 'REFUNDED') return { changed: false, events: [{ type: 'refunded', amount: s.amount }] };
    if (s.status === 'CAPTURED') {
      this.update({ status: 'REFUNDED' }, now);
      return { changed: true, events: [{ type: 'refunded', amount: s.amount }] };
    }
    return { changed: this.release(now), events: [{ type: 'refunded', amount: 0 }] };
  }

  /** The gateway work this payment's follow-up needs, if it is due. */
  dueFollowUp(now: Date): FollowUpCall | undefined {
    const s = this.state;
    if (!s.followUp || Date.parse(s.followUp.dueAt) > now.getTime()) return undefined;
    switch (s.followUp.action) {
      case 'REAUTHORIZE':
        return {
          action: 'REAUTHORIZE',
          request: {
            orderId: s.orderId,
            amount: s.amount,
            currency: s.currency,
            paymentToken: s.paymentToken ?? '',
            idempotencyKey: this.idempotencyKey,
          },
        };
      case 'REVERSE':
        return { action: 'REVERSE', idempotencyKey: this.idempotencyKey };
      case 'VOID':
        return s.authorizationId ? { action: 'VOID', authorizationId: s.authorizationId } : undefined;
    }
  }

  /** The gateway's answer to a re-request (REAUTHORIZE follow-up). */
  recordReauthorization(answer: AuthorizationAnswer, now: Date): PaymentEvent[] {
    const followUp = this.state.followUp;
    if (followUp?.action !== 'REAUTHORIZE') return [];
    if (answer.kind === 'unavailable' && followUp.failures + 1 < MAX_REAUTHORIZATION_FAILURES) {
      this.retryFollowUp(followUp, now);
      return [];
    }
    this.update({ followUp: undefined }, now);
    return this.answered(answer, now);
  }

  /**
   * The gateway's answer to a reversal or void follow-up. Held money must be released, so these are tried until
   * they succeed; a refusal is retried too, and the edge reports it loudly.
   */
  recordFollowUpOperation(answer: OperationAnswer, now: Date): void {
    const followUp = this.state.followUp;
    if (followUp?.action !== 'REVERSE' && followUp?.action !== 'VOID') return;
    if (answer.kind !== 'done') {
      this.retryFollowUp(followUp, now);
      return;
    }
    this.update(followUp.action === 'VOID' ? { status: 'VOIDED', followUp: undefined } : { followUp: undefined }, now);
  }

  /** Applies an answer to an authorisation request made while PENDING. */
  private answered(answer: AuthorizationAnswer, now: Date): PaymentEvent[] {
    const at = now.toISOString();
    switch (answer.kind) {
      case 'approved':
        if (this.state.voidRequestedAt) {
          // Approved after the saga asked to release it: hold it only until the gateway has voided it.
          this.update(
            {
              status: 'AUTHORIZED',
              authorizationId: answer.authorizationId,
              authorizedAt: at,
              paymentToken: undefined,
              followUp: { action: 'VOID', dueAt: at, failures: 0 },
            },
            now,
          );
          return [];
        }
        this.update(
          { status: 'AUTHORIZED', authorizationId: answer.authorizationId, authorizedAt: at, paymentToken: undefined },
          now,
        );
        return [{ type: 'authorized' }];
      case 'pending':
        this.update({ authorizationId: answer.authorizationId }, now);
        return [];
      case 'declined':
        return this.decline('DECLINED', answer.reason, now);
      case 'rejected':
        return this.decline('GATEWAY_ERROR', `the gateway refused the request: ${answer.reason}`, now);
      case 'unavailable':
        this.update({ followUp: { action: 'REVERSE', dueAt: at, failures: 0 } }, now);
        return this.decline('TIMED_OUT', answer.reason, now);
    }
  }

  private decline(code: DeclineCode, reason: string, now: Date): PaymentEvent[] {
    const text = (reason || code.toLowerCase()).slice(0, REASON_MAX_LENGTH);
    this.update({ status: 'DECLINED', declineCode: code, declineReason: text, paymentToken: undefined }, now);
    return [{ type: 'declined', code, reason: text }];
  }

  /** Releases what is held once the gateway has voided it, or remembers the request while PENDING. */
  private release(now: Date): boolean {
    const s = this.state;
    const voidRequestedAt = s.voidRequestedAt ?? now.toISOString();
    switch (s.status) {
      case 'AUTHORIZED':
        this.update({ status: 'VOIDED', voidRequestedAt, followUp: undefined }, now);
        return true;
      case 'PENDING':
        if (s.followUp?.action === 'REAUTHORIZE') {
          // Nothing is held, but a re-request may have reached the gateway without an answer: reverse its key.
          this.update(
            {
              status: 'VOIDED',
              voidRequestedAt,
              paymentToken: undefined,
              followUp: { action: 'REVERSE', dueAt: now.toISOString(), failures: 0 },
            },
            now,
          );
          return true;
        }
        if (s.voidRequestedAt) return false;
        this.update({ voidRequestedAt }, now);
        return true;
      default:
        return false;
    }
  }

  private retryFollowUp(followUp: FollowUp, now: Date): void {
    const failures = followUp.failures + 1;
    const dueAt = new Date(now.getTime() + followUpRetryDelay(failures)).toISOString();
    this.update({ followUp: { ...followUp, failures, dueAt } }, now);
  }

  private update(change: Partial<PaymentState>, now: Date): void {
    this.state = { ...this.state, ...change, updatedAt: now.toISOString() };
  }
}
