import { describe, expect, it } from 'vitest';
import {
  followUpRetryDelay,
  idempotencyKeyFor,
  MAX_AUTHORIZATION_REQUESTS,
  MAX_REAUTHORIZATION_FAILURES,
  Payment,
  PaymentNotCapturable,
  PaymentNotVoidable,
} from './payment.js';
import type { AuthorizationAnswer } from './payment-gateway.js';

const ORDER = '0b7f3f5e-7a59-4c0e-9d3e-2f1a4b5c6d7e';
const t0 = new Date('2026-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

function open(answer: AuthorizationAnswer) {
  return Payment.open(
    { id: 'p-1', orderId: ORDER, amount: 2599, currency: 'EUR', paymentToken: 'tok_x', correlationId: 'c-1', now: t0 },
    answer,
  );
}

function pending() {
  return open({ kind: 'pending', authorizationId: 'auth-1' }).payment;
}

function authorized() {
  return open({ kind: 'approved', authorizationId: 'auth-1' }).payment;
}

describe('Payment.open', () => {
  it('is AUTHORIZED by an approval, tells the saga, and forgets the card token', () => {
    const { payment, events } = open({ kind: 'approved', authorizationId: 'auth-1' });
    expect(payment.snapshot).toMatchObject({ status: 'AUTHORIZED', authorizationId: 'auth-1', amount: 2599 });
    expect(payment.snapshot.paymentToken).toBeUndefined();
    expect(events).toEqual([{ type: 'authorized' }]);
  });

  it('is DECLINED by a decline, with the gateway’s reason', () => {
    const { payment, events } = open({ kind: 'declined', reason: 'card_declined' });
    expect(payment.snapshot).toMatchObject({ status: 'DECLINED', declineCode: 'DECLINED' });
    expect(events).toEqual([{ type: 'declined', code: 'DECLINED', reason: 'card_declined' }]);
  });

  it('stays PENDING, saying nothing yet, while the gateway decides', () => {
    const { payment, events } = open({ kind: 'pending', authorizationId: 'auth-1' });
    expect(payment.snapshot).toMatchObject({ status: 'PENDING', authorizationId: 'auth-1', paymentToken: 'tok_x' });
    expect(events).toEqual([]);
  });

  it('reports TIMED_OUT when no answer came within the attempts, and reverses the request', () => {
    const { payment, events } = open({ kind: 'unavailable', reason: 'the gateway did not answer within 500 ms' });
    expect(payment.snapshot).toMatchObject({ status: 'DECLINED', declineCode: 'TIMED_OUT' });
    expect(payment.snapshot.followUp).toMatchObject({ action: 'REVERSE', dueAt: t0.toISOString() });
    expect(payment.dueFollowUp(t0)).toEqual({ action: 'REVERSE', idempotencyKey: ORDER });
    expect(events).toEqual([
      { type: 'declined', code: 'TIMED_OUT', reason: 'the gateway did not answer within 500 ms' },
    ]);
  });

  it('reports GATEWAY_ERROR when the gateway refuses the request itself', () => {
    const { events } = open({ kind: 'rejected', reason: 'the gateway answered 422 idempotency_key_reused' });
    expect(events).toMatchObject([{ type: 'declined', code: 'GATEWAY_ERROR' }]);
  });
});

describe('a re-sent authorisation', () => {
  it('gets the first outcome again', () => {
    expect(authorized().authorizationOutcome()).toEqual([{ type: 'authorized' }]);
    expect(open({ kind: 'declined', reason: 'card_declined' }).payment.authorizationOutcome()).toEqual([
      { type: 'declined', code: 'DECLINED', reason: 'card_declined' },
    ]);
    expect(pending().authorizationOutcome()).toEqual([]);
  });

  it('is declined once the payment was released before any authorisation', () => {
    const released = Payment.releasedBeforeAuthorization({ id: 'p-2', orderId: ORDER, now: t0 });
    expect(released.snapshot).toMatchObject({ status: 'VOIDED', amount: 0, currency: 'XXX' });
    expect(released.authorizationOutcome()).toMatchObject([{ type: 'declined', code: 'DECLINED' }]);
  });
});

describe('a result reported later', () => {
  it('authorises a pending payment on approval', () => {
    const payment = pending();
    const change = payment.recordResult({ authorizationId: 'auth-1', status: 'approved' }, later(1000));
    expect(change).toEqual({ changed: true, events: [{ type: 'authorized' }] });
    expect(payment.snapshot).toMatchObject({ status: 'AUTHORIZED', authorizedAt: later(1000).toISOString() });
  });

  it('declines a pending payment on decline', () => {
    const payment = pending();
    const change = payment.recordResult({ authorizationId: 'auth-1', status: 'declined', reason: 'card_declined' }, t0);
    expect(change.events).toEqual([{ type: 'declined', code: 'DECLINED', reason: 'card_declined' }]);
  });

  it('ignores a repeated result and one about another authorisation', () => {
    const payment = pending();
    payment.recordResult({ authorizationId: 'auth-1', status: 'approved' }, t0);
    expect(payment.recordResult({ authorizationId: 'auth-1', status: 'approved' }, t0)).toEqual({
      changed: false,
      events: [],
    });
    expect(pending().recordResult({ authorizationId: 'auth-9', status: 'approved' }, t0).changed).toBe(false);
  });

  it('requests a new authorisation, with a new key, when the gateway says when', () => {
    const payment = pending();
    const change = payment.recordResult(
      { authorizationId: 'auth-1', status: 'error', reason: 'issuer_unavailable', retryAfterMs: 200 },
      t0,
    );
    expect(change).toEqual({ changed: true, events: [] });
    expect(payment.snapshot).toMatchObject({ status: 'PENDING', authorizationRequests: 2 });
    expect(payment.dueFollowUp(later(199))).toBeUndefined();
    expect(payment.dueFollowUp(later(200))).toEqual({
      action: 'REAUTHORIZE',
      request: { orderId: ORDER, amount: 2599, currency: 'EUR', paymentToken: 'tok_x', idempotencyKey: `${ORDER}.2` },
    });
    // The failed request's callback, repeated, no longer applies.
    expect(
      payment.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'x', retryAfterMs: 1 }, t0).changed,
    ).toBe(false);

    expect(payment.recordReauthorization({ kind: 'pending', authorizationId: 'auth-2' }, later(300))).toEqual([]);
    expect(payment.snapshot.followUp).toBeUndefined();
    expect(payment.recordResult({ authorizationId: 'auth-2', status: 'approved' }, later(600)).events).toEqual([
      { type: 'authorized' },
    ]);
  });

  it('gives up with GATEWAY_ERROR when the error is not to be retried, or too many requests failed', () => {
    const once = pending();
    expect(once.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'broken' }, t0).events).toEqual([
      { type: 'declined', code: 'GATEWAY_ERROR', reason: 'the gateway could not authorise: broken' },
    ]);

    const payment = pending();
    for (let request = 1; request < MAX_AUTHORIZATION_REQUESTS; request += 1) {
      payment.recordResult(
        { authorizationId: `auth-${request}`, status: 'error', reason: 'issuer_unavailable', retryAfterMs: 0 },
        t0,
      );
      payment.recordReauthorization({ kind: 'pending', authorizationId: `auth-${request + 1}` }, t0);
    }
    const last = payment.recordResult(
      {
        authorizationId: `auth-${MAX_AUTHORIZATION_REQUESTS}`,
        status: 'error',
        reason: 'issuer_unavailable',
        retryAfterMs: 0,
      },
      t0,
    );
    expect(last.events).toMatchObject([{ type: 'declined', code: 'GATEWAY_ERROR' }]);
  });

  it('retries an unanswered re-request with backoff, then reports TIMED_OUT and reverses it', () => {
    const payment = pending();
    payment.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'x', retryAfterMs: 0 }, t0);
    const dueTimes: string[] = [];
    for (let failure = 1; failure < MAX_REAUTHORIZATION_FAILURES; failure += 1) {
      expect(payment.recordReauthorization({ kind: 'unavailable', reason: 'timeout' }, t0)).toEqual([]);
      dueTimes.push(payment.snapshot.followUp!.dueAt);
    }
    expect(dueTimes).toEqual([500, 1000, 2000, 4000].map((ms) => later(ms).toISOString()));
    expect(payment.recordReauthorization({ kind: 'unavailable', reason: 'timeout' }, t0)).toEqual([
      { type: 'declined', code: 'TIMED_OUT', reason: 'timeout' },
    ]);
    expect(payment.dueFollowUp(t0)).toEqual({ action: 'REVERSE', idempotencyKey: `${ORDER}.2` });
  });
});

describe('a result that never comes', () => {
  it('is awaited only while the authorisation is pending', () => {
    expect(pending().awaitedAuthorization).toBe('auth-1');
    expect(authorized().awaitedAuthorization).toBeUndefined();
    const p = pending();
    p.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'x', retryAfterMs: 100 }, later(1));
    expect(p.awaitedAuthorization).toBeUndefined();
  });

  it('ends the payment DECLINED TIMED_OUT, tells the saga, and reverses the request', () => {
    const p = pending();
    const change = p.recordNoResult('no result within 30m', later(1_000));
    expect(change).toEqual({
      changed: true,
      events: [{ type: 'declined', code: 'TIMED_OUT', reason: 'no result within 30m' }],
    });
    expect(p.snapshot).toMatchObject({ status: 'DECLINED', followUp: { action: 'REVERSE' } });
    expect(p.dueFollowUp(later(1_000))).toEqual({ action: 'REVERSE', idempotencyKey: ORDER });
  });

  it('voids a payment the saga released, without a word to the saga, and reverses the request', () => {
    const p = pending();
    p.recordVoid(later(1));
    const change = p.recordNoResult('no result', later(2));
    expect(change).toEqual({ changed: true, events: [] });
    expect(p.snapshot).toMatchObject({ status: 'VOIDED', followUp: { action: 'REVERSE' } });
  });

  it('changes nothing once the result is in', () => {
    const p = pending();
    p.recordResult({ authorizationId: 'auth-1', status: 'approved' }, later(1));
    expect(p.recordNoResult('late', later(2))).toEqual({ changed: false, events: [] });
    expect(p.snapshot.status).toBe('AUTHORIZED');
  });
});

describe('capture', () => {
  it('captures an authorised payment once, and answers a repeat without calling the gateway again', () => {
    const payment = authorized();
    expect(payment.gatewayCallToCapture()).toEqual({ operation: 'capture', authorizationId: 'auth-1' });
    expect(payment.recordCapture(t0)).toEqual({ changed: true, events: [{ type: 'captured' }] });
    expect(payment.gatewayCallToCapture()).toBeUndefined();
    expect(payment.recordCapture(t0)).toEqual({ changed: false, events: [{ type: 'captured' }] });
  });

  it('refuses what cannot be captured, including an approval the saga had already released', () => {
    expect(() => pending().gatewayCallToCapture()).toThrow(PaymentNotCapturable);
    expect(() => open({ kind: 'declined', reason: 'no' }).payment.gatewayCallToCapture()).toThrow(PaymentNotCapturable);
    const released = pending();
    released.recordVoid(t0);
    released.recordResult({ authorizationId: 'auth-1', status: 'approved' }, t0);
    expect(released.snapshot.status).toBe('AUTHORIZED');
    expect(() => released.gatewayCallToCapture()).toThrow(PaymentNotCapturable);
  });
});

describe('void', () => {
  it('voids an authorised payment at the gateway, and answers every repeat', () => {
    const payment = authorized();
    expect(payment.gatewayCallToVoid()).toEqual({ operation: 'void', authorizationId: 'auth-1' });
    expect(payment.recordVoid(t0)).toEqual({ changed: true, events: [{ type: 'voided' }] });
    expect(payment.snapshot.status).toBe('VOIDED');
    expect(payment.gatewayCallToVoid()).toBeUndefined();
    expect(payment.recordVoid(t0)).toEqual({ changed: false, events: [{ type: 'voided' }] });
  });

  it('answers for a declined payment, with nothing to release', () => {
    const payment = open({ kind: 'declined', reason: 'no' }).payment;
    expect(payment.gatewayCallToVoid()).toBeUndefined();
    expect(payment.recordVoid(t0)).toEqual({ changed: false, events: [{ type: 'voided' }] });
    expect(payment.snapshot.status).toBe('DECLINED');
  });

  it('is remembered while PENDING: a late approval is voided, never announced', () => {
    const payment = pending();
    expect(payment.gatewayCallToVoid()).toBeUndefined();
    expect(payment.recordVoid(t0)).toEqual({ changed: true, events: [{ type: 'voided' }] });
    const change = payment.recordResult({ authorizationId: 'auth-1', status: 'approved' }, later(100));
    expect(change).toEqual({ changed: true, events: [] });
    expect(payment.dueFollowUp(later(100))).toEqual({ action: 'VOID', authorizationId: 'auth-1' });

    payment.recordFollowUpOperation({ kind: 'unavailable', reason: 'timeout' }, later(100));
    expect(payment.snapshot).toMatchObject({ status: 'AUTHORIZED', followUp: { failures: 1 } });
    expect(payment.dueFollowUp(later(100))).toBeUndefined();
    payment.recordFollowUpOperation({ kind: 'done' }, later(700));
    expect(payment.snapshot.status).toBe('VOIDED');
    expect(payment.snapshot.followUp).toBeUndefined();
  });

  it('is remembered while PENDING: a late decline or error leaves it VOIDED', () => {
    const declined = pending();
    declined.recordVoid(t0);
    expect(declined.recordResult({ authorizationId: 'auth-1', status: 'declined', reason: 'no' }, t0).events).toEqual(
      [],
    );
    expect(declined.snapshot.status).toBe('VOIDED');

    const failed = pending();
    failed.recordVoid(t0);
    failed.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'x', retryAfterMs: 100 }, t0);
    expect(failed.snapshot).toMatchObject({ status: 'VOIDED', authorizationRequests: 1 });
    expect(failed.snapshot.followUp).toBeUndefined();
  });

  it('cancels a re-request that is due, reversing its key in case it reached the gateway', () => {
    const payment = pending();
    payment.recordResult({ authorizationId: 'auth-1', status: 'error', reason: 'x', retryAfterMs: 100 }, t0);
    payment.recordVoid(t0);
    expect(payment.snapshot.status).toBe('VOIDED');
    expect(payment.dueFollowUp(t0)).toEqual({ action: 'REVERSE', idempotencyKey: `${ORDER}.2` });
    payment.recordFollowUpOperation({ kind: 'done' }, t0);
    expect(payment.snapshot).toMatchObject({ status: 'VOIDED' });
    expect(payment.snapshot.followUp).toBeUndefined();
  });

  it('refuses a captured payment: that is a refund', () => {
    const payment = authorized();
    payment.recordCapture(t0);
    expect(() => payment.gatewayCallToVoid()).toThrow(PaymentNotVoidable);
  });
});

describe('refund', () => {
  it('refunds a captured payment, and answers every repeat with the amount', () => {
    const payment = authorized();
    payment.recordCapture(t0);
    expect(payment.gatewayCallToRefund()).toEqual({ operation: 'refund', authorizationId: 'auth-1' });
    expect(payment.recordRefund(t0)).toEqual({ changed: true, events: [{ type: 'refunded', amount: 2599 }] });
    expect(payment.gatewayCallToRefund()).toBeUndefined();
    expect(payment.recordRefund(t0)).toEqual({ changed: false, events: [{ type: 'refunded', amount: 2599 }] });
  });

  it('releases an authorisation that was never captured, refunding nothing', () => {
    const payment = authorized();
    expect(payment.gatewayCallToRefund()).toEqual({ operation: 'void', authorizationId: 'auth-1' });
    expect(payment.recordRefund(t0)).toEqual({ changed: true, events: [{ type: 'refunded', amount: 0 }] });
    expect(payment.snapshot.status).toBe('VOIDED');
  });

  it('is remembered while PENDING like a void', () => {
    const payment = pending();
    expect(payment.recordRefund(t0).events).toEqual([{ type: 'refunded', amount: 0 }]);
    payment.recordResult({ authorizationId: 'auth-1', status: 'approved' }, t0);
    expect(payment.snapshot.followUp?.action).toBe('VOID');
  });
});

describe('idempotency keys', () => {
  it('are the order id for the first request, then numbered', () => {
    expect(idempotencyKeyFor(ORDER, 1)).toBe(ORDER);
    expect(idempotencyKeyFor(ORDER, 3)).toBe(`${ORDER}.3`);
  });
});

describe('the follow-ups’ backoff', () => {
  it('doubles from half a second to at most a minute, whoever counts the failures (the payment, or the scheduler)', () => {
    expect([1, 2, 3, 4, 7, 8, 30].map(followUpRetryDelay)).toEqual([500, 1000, 2000, 4000, 32_000, 60_000, 60_000]);
  });
});
