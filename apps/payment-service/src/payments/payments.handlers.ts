import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthorizePayment, CapturePayment, type DataOf, RefundPayment, VoidPayment } from '@orderflow/contracts';
import {
  HandleMessage,
  type IncomingMessage,
  PermanentError,
  TransientError,
  type UnitOfWork,
} from '@orderflow/messaging';
import { AuthorizationPoll } from './authorization-poll.js';
import {
  type Change,
  type GatewayCall,
  idempotencyKeyFor,
  Payment,
  type PaymentEvent,
  PaymentNotCapturable,
  PaymentNotVoidable,
} from './payment.js';
import { PaymentGateway } from './payment-gateway.js';
import { publishEvents } from './payment-messages.js';
import { PaymentsRepository } from './payments.repository.js';

/** The gateway gave no usable answer; the messaging core retries the message with backoff. */
export class GatewayUnavailable extends TransientError {
  override name = 'GatewayUnavailable';
}

/**
 * The payment steps the saga asks for. Each calls the gateway inside the message's transaction, so the gateway's
 * answer and the state and events it leads to commit together; the gateway's timeout keeps that transaction short.
 * Gateway calls are idempotent (keys, or operations on one authorisation), so a retried or redelivered message
 * repeats a call without a second effect.
 */
@Injectable()
export class PaymentSteps {
  constructor(
    private readonly payments: PaymentsRepository,
    private readonly gateway: PaymentGateway,
    private readonly authorizationPoll: AuthorizationPoll,
  ) {}

  @HandleMessage(AuthorizePayment)
  async onAuthorize(message: IncomingMessage<DataOf<typeof AuthorizePayment>>, uow: UnitOfWork): Promise<void> {
    const { orderId, amount, currency, paymentToken } = message.data;
    const existing = await this.payments.findByOrder(uow.manager, orderId, { forUpdate: true });
    // A re-sent command has a new message id, so the inbox lets it through: it gets the first one's outcome again.
    if (existing) return publishEvents(uow, existing, existing.authorizationOutcome());

    const answer = await this.gateway.authorize({
      orderId,
      amount,
      currency,
      paymentToken,
      idempotencyKey: idempotencyKeyFor(orderId, 1),
    });
    // No answer is retried with backoff; once the attempts are over the step is reported failed (TIMED_OUT) so the
    // saga compensates, rather than the command waiting in a dead-letter queue.
    if (answer.kind === 'unavailable' && !message.lastAttempt) throw new GatewayUnavailable(answer.reason);
    const { payment, events } = Payment.open(
      {
        id: randomUUID(),
        orderId,
        amount,
        currency,
        paymentToken,
        correlationId: message.correlationId,
        now: new Date(),
      },
      answer,
    );
    await this.payments.insert(uow, payment);
    // A pending answer's result comes by callback, which may be lost: the gateway is asked too.
    await this.authorizationPoll.startIfAwaited(uow.manager, payment);
    publishEvents(uow, payment, events);
  }

  @HandleMessage(CapturePayment)
  async onCapture(message: IncomingMessage<DataOf<typeof CapturePayment>>, uow: UnitOfWork): Promise<void> {
    const payment = await this.payments.findByOrder(uow.manager, message.data.orderId, { forUpdate: true });
    if (!payment) throw new PermanentError(`no payment for order ${message.data.orderId} to capture`);
    const change = await refusalIsPermanent(async () => {
      await this.perform(payment.gatewayCallToCapture());
      return payment.recordCapture(new Date());
    });
    await this.saveAndPublish(uow, payment, change);
  }

  @HandleMessage(VoidPayment)
  async onVoid(message: IncomingMessage<DataOf<typeof VoidPayment>>, uow: UnitOfWork): Promise<void> {
    const { orderId } = message.data;
    const payment = await this.payments.findByOrder(uow.manager, orderId, { forUpdate: true });
    if (!payment) return this.releaseBeforeAuthorization(uow, orderId, { type: 'voided' });
    const change = await refusalIsPermanent(async () => {
      await this.perform(payment.gatewayCallToVoid());
      return payment.recordVoid(new Date());
    });
    await this.saveAndPublish(uow, payment, change);
  }

  @HandleMessage(RefundPayment)
  async onRefund(message: IncomingMessage<DataOf<typeof RefundPayment>>, uow: UnitOfWork): Promise<void> {
    const { orderId } = message.data;
    const payment = await this.payments.findByOrder(uow.manager, orderId, { forUpdate: true });
    if (!payment) return this.releaseBeforeAuthorization(uow, orderId, { type: 'refunded', amount: 0 });
    await this.perform(payment.gatewayCallToRefund());
    await this.saveAndPublish(uow, payment, payment.recordRefund(new Date()));
  }

  /** A compensation that overtook its authorisation: answered, and remembered so the authorisation holds nothing. */
  private async releaseBeforeAuthorization(uow: UnitOfWork, orderId: string, event: PaymentEvent): Promise<void> {
    const payment = Payment.releasedBeforeAuthorization({ id: randomUUID(), orderId, now: new Date() });
    await this.payments.insert(uow, payment);
    publishEvents(uow, payment, [event]);
  }

  private async saveAndPublish(uow: UnitOfWork, payment: Payment, change: Change): Promise<void> {
    if (change.changed) await this.payments.update(uow, payment);
    publishEvents(uow, payment, change.events);
  }

  private async perform(call: GatewayCall | undefined): Promise<void> {
    if (!call) return;
    const answer = await this.gateway[call.operation](call.authorizationId);
    if (answer.kind === 'unavailable') throw new GatewayUnavailable(answer.reason);
    if (answer.kind === 'rejected') {
      throw new PermanentError(`the gateway refused to ${call.operation} ${call.authorizationId}: ${answer.reason}`);
    }
  }
}

/** A command this payment cannot carry out (capture after void, void after capture) is a saga bug: dead-letter it. */
async function refusalIsPermanent<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PaymentNotCapturable || err instanceof PaymentNotVoidable) throw new PermanentError(err.message);
    throw err;
  }
}
