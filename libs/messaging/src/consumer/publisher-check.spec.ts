import { AuthorizePayment, ORDERFLOW_ROUTING, PaymentAuthorized, RefundPayment } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { EXCHANGES } from '../topology/topology.js';
import { publisherCheckFor } from './publisher-check.js';

describe('PublisherCheck', () => {
  const atSaga = publisherCheckFor(ORDERFLOW_ROUTING, 'saga');
  const atPayment = publisherCheckFor(ORDERFLOW_ROUTING, 'payment');

  it('accepts a message from the broker user that owns its type', () => {
    expect(atSaga.refusal(PaymentAuthorized.type, EXCHANGES.events, 'payment')).toBeUndefined();
    expect(atPayment.refusal(AuthorizePayment.type, EXCHANGES.commands, 'saga')).toBeUndefined();
  });

  it('refuses one sent by another user, or by a publisher that named none, saying who and who should have', () => {
    expect(atSaga.refusal(PaymentAuthorized.type, EXCHANGES.events, 'order')).toBe(
      "payment.authorized.v1 sent by broker user 'order' through orderflow.events; only 'payment' may send it there",
    );
    expect(atPayment.refusal(RefundPayment.type, EXCHANGES.commands, undefined)).toMatch(
      /sent by a publisher that gave no user_id .* only 'saga' may send it there/,
    );
    expect(atPayment.refusal(RefundPayment.type, '', 'admin')).toMatch(/through the default exchange/);
  });

  it('takes a message that comes back by orderflow.retry only from the queue’s own service', () => {
    // A retry or a replay: the payment service puts the saga's command back on its own queue.
    expect(atPayment.refusal(RefundPayment.type, EXCHANGES.retry, 'payment')).toBeUndefined();
    // The saga owns the command, but only the queue's owner may send by way of a retry.
    expect(atPayment.refusal(RefundPayment.type, EXCHANGES.retry, 'saga')).toMatch(/only 'payment' may send it there/);
    expect(atPayment.refusal(RefundPayment.type, EXCHANGES.retry, 'order')).toBeDefined();
  });

  it('refuses a type no service of the routing sends', () => {
    expect(atSaga.refusal('payment.forged.v1', EXCHANGES.events, 'payment')).toBe('no service sends payment.forged.v1');
  });

  it('names senders by the broker user a mapping gives', () => {
    const check = publisherCheckFor(ORDERFLOW_ROUTING, 'saga', (service) => `orderflow-${service}`);
    expect(check.refusal(PaymentAuthorized.type, EXCHANGES.events, 'orderflow-payment')).toBeUndefined();
    expect(check.refusal(PaymentAuthorized.type, EXCHANGES.events, 'payment')).toBeDefined();
  });
});
