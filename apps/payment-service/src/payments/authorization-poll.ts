/**
 * A pending authorisation's result, asked for as well as called back. The gateway reports it by callback, and a
 * callback can be lost (this service was down while the gateway tried, and it gave up); then the payment would stay
 * PENDING for good. So the step that records a pending authorisation (the AuthorizePayment handler, a re-request
 * follow-up) also starts a poll of the gateway's `GET /v1/authorizations/{id}` in the same transaction, on the schedule
 * of PAYMENT_AUTHORIZATION_POLL_* (libs/scheduling: poll-schedule.ts, status-poll.ts).
 *
 * A result the poll finds is recorded exactly as the callback records it (PaymentsService.recordGatewayResult), and
 * the poll's job ends in that transaction; a callback cancels the poll in its own. Either way the result is applied
 * once (Payment.recordResult ignores a result already recorded).
 *
 * The window's end gives the payment up as a request that never answered (Payment.recordNoResult): DECLINED TIMED_OUT
 * with its key reversed, so whatever the gateway still approves holds nothing. Not parked for an operator, because no
 * money can be held once the reversal is done, and the saga already handles TIMED_OUT by cancelling the order; it has
 * usually given up on the payment itself by then (its payment deadline is 5 minutes), and the void it sent is
 * remembered, so the window's end then only releases the request.
 */
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@orderflow/platform';
import { type Queryable, type StatusPoll, StatusPolls } from '@orderflow/scheduling';
import type { PaymentServiceConfig } from '../config.js';
import type { Payment } from './payment.js';

export interface AuthorizationPollData {
  orderId: string;
  authorizationId: string;
  correlationId?: string;
}

/** The poll as the steps that start and cancel it see it; keyed by the payment's id. */
@Injectable()
export class AuthorizationPoll {
  readonly poll: StatusPoll<AuthorizationPollData>;

  constructor(polls: StatusPolls, @Inject(SERVICE_CONFIG) config: PaymentServiceConfig) {
    this.poll = polls.define<AuthorizationPollData>('payment.authorization-result', {
      firstIntervalMs: config.PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL,
      maxIntervalMs: Math.max(
        config.PAYMENT_AUTHORIZATION_POLL_MAX_INTERVAL,
        config.PAYMENT_AUTHORIZATION_POLL_FIRST_INTERVAL,
      ),
      windowMs: config.PAYMENT_AUTHORIZATION_POLL_WINDOW,
    });
  }

  /** Starts the poll if the payment now waits for a result, in the transaction that saves it. */
  async startIfAwaited(tx: Queryable, payment: Payment): Promise<void> {
    const authorizationId = payment.awaitedAuthorization;
    if (!authorizationId) return;
    const { id, orderId, correlationId } = payment.snapshot;
    await this.poll.start(tx, id, { orderId, authorizationId, correlationId });
  }

  /** Cancels the poll once the payment no longer waits for a result, in the transaction that saves it. */
  async cancelUnlessAwaited(tx: Queryable, payment: Payment): Promise<void> {
    if (!payment.awaitedAuthorization) await this.poll.cancel(tx, payment.snapshot.id);
  }
}
