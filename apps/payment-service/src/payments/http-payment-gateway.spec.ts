import { describe, expect, it } from 'vitest';
import {
  authorizationAnswerOf,
  authorizationStatusOf,
  operationAnswerOf,
  unavailableFrom,
} from './http-payment-gateway.js';

describe('authorizationAnswerOf', () => {
  it('reads approvals, pending answers and declines', () => {
    expect(authorizationAnswerOf(201, { authorizationId: 'auth_1', status: 'approved', amount: 5 })).toEqual({
      kind: 'approved',
      authorizationId: 'auth_1',
    });
    expect(authorizationAnswerOf(202, { authorizationId: 'auth_2', status: 'pending' })).toEqual({
      kind: 'pending',
      authorizationId: 'auth_2',
    });
    expect(authorizationAnswerOf(402, { status: 'declined', reason: 'card_declined' })).toEqual({
      kind: 'declined',
      reason: 'card_declined',
    });
    expect(authorizationAnswerOf(402, 'nope')).toEqual({ kind: 'declined', reason: 'declined' });
  });

  it('treats "not now" as no answer: 5xx, 429, and a request with the same key still in progress', () => {
    expect(authorizationAnswerOf(503, { error: 'temporarily_unavailable', retryAfterMs: 200 })).toEqual({
      kind: 'unavailable',
      reason: 'the gateway answered 503 temporarily_unavailable',
    });
    expect(authorizationAnswerOf(429, undefined)).toEqual({
      kind: 'unavailable',
      reason: 'the gateway answered 429',
    });
    expect(authorizationAnswerOf(409, { error: 'request_in_progress' }).kind).toBe('unavailable');
  });

  it('treats a success it cannot read as no answer, so the keyed request is asked again', () => {
    expect(authorizationAnswerOf(200, { hello: 'world' })).toEqual({
      kind: 'unavailable',
      reason: "the gateway's 200 answer could not be read",
    });
  });

  it('treats other client errors as a refusal of the request itself', () => {
    expect(authorizationAnswerOf(422, { error: 'idempotency_key_reused' })).toEqual({
      kind: 'rejected',
      reason: 'the gateway answered 422 idempotency_key_reused',
    });
    expect(authorizationAnswerOf(409, { error: 'idempotency_key_reversed' }).kind).toBe('rejected');
    expect(authorizationAnswerOf(400, { error: 'invalid_request' }).kind).toBe('rejected');
  });
});

describe('operationAnswerOf', () => {
  it('maps success, "not now" and refusal', () => {
    expect(operationAnswerOf(200, { status: 'captured' })).toEqual({ kind: 'done' });
    expect(operationAnswerOf(502, undefined)).toEqual({ kind: 'unavailable', reason: 'the gateway answered 502' });
    expect(operationAnswerOf(409, { error: 'invalid_state', status: 'voided' })).toEqual({
      kind: 'rejected',
      reason: 'the gateway answered 409 invalid_state',
    });
    expect(operationAnswerOf(404, { error: 'not_found' }).kind).toBe('rejected');
  });
});

describe('unavailableFrom', () => {
  it('says when the gateway was too slow', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(unavailableFrom(timeout, 500)).toEqual({
      kind: 'unavailable',
      reason: 'the gateway did not answer within 500 ms',
    });
  });

  it('says why the gateway could not be reached', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) });
    expect(unavailableFrom(refused, 500)).toEqual({
      kind: 'unavailable',
      reason: 'the gateway could not be reached: ECONNREFUSED',
    });
    expect(unavailableFrom(new Error('socket hang up'), 500).reason).toBe(
      'the gateway could not be reached: socket hang up',
    );
  });
});

describe('authorizationStatusOf', () => {
  const of = (body: unknown, status = 200) => authorizationStatusOf('auth_1', status, body);

  it('reads a pending authorisation as no result yet', () => {
    expect(of({ status: 'pending' })).toEqual({ kind: 'pending' });
  });

  it('reads the result a callback would have carried', () => {
    expect(of({ status: 'approved' })).toEqual({
      kind: 'result',
      result: { authorizationId: 'auth_1', status: 'approved' },
    });
    expect(of({ status: 'declined', reason: 'card_declined' })).toEqual({
      kind: 'result',
      result: { authorizationId: 'auth_1', status: 'declined', reason: 'card_declined' },
    });
    expect(of({ status: 'failed', reason: 'issuer_unavailable', retryAfterMs: 200 })).toEqual({
      kind: 'result',
      result: { authorizationId: 'auth_1', status: 'error', reason: 'issuer_unavailable', retryAfterMs: 200 },
    });
  });

  it('takes an error status or an unreadable view as no answer', () => {
    expect(of({ error: 'not_found' }, 404).kind).toBe('unavailable');
    expect(of('garbage').kind).toBe('unavailable');
    expect(of({ status: 'teleported' }).kind).toBe('unavailable');
  });
});
