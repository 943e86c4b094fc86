/**
 * The payment use cases that do not start from a saga command: reading payments, and the results the gateway
 * reports later for pending authorisations.
 */
import { Injectable } from '@nestjs/common';
import { Messaging } from '@orderflow/messaging';
import type { FinishPoll } from '@orderflow/scheduling';
import { DataSource } from 'typeorm';
import { AuthorizationPoll } from './authorization-poll.js';
import type { Payment } from './payment.js';
import type { AuthorizationResult } from './payment-gateway.js';
import { publishEvents } from './payment-messages.js';
import { PaymentsRepository } from './payments.repository.js';
import { NotFound } from '@orderflow/platform/domain-errors';

export class PaymentNotFound extends NotFound {
  constructor(detail = 'No payment with this id') {
    super(detail);
  }
}

@Injectable()
export class PaymentsService {
  constructor(
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly payments: PaymentsRepository,
    private readonly authorizationPoll: AuthorizationPoll,
  ) {}

  async get(id: string): Promise<Payment> {
    const payment = await this.payments.find(this.dataSource.manager, id);
    if (!payment) throw new PaymentNotFound();
    return payment;
  }

  async listByOrder(orderId: string): Promise<Payment[]> {
    return this.payments.listByOrder(this.dataSource.manager, orderId);
  }

  /**
   * Records a result the gateway reports for an order's pending authorisation, with what follows from it (an event
   * for the saga, a re-request or a void to follow up), in one transaction. Resolves only once that has committed,
   * so the gateway is told the callback arrived only when losing it is no longer possible; a repeated callback
   * changes nothing. An unknown order (the callback overtook the commit of its request) is retried by the gateway.
   *
   * The same transaction ends the poll of the gateway (authorization-poll.ts): the poll's own job when the poll found
   * the result (`finishPoll`), else by cancelling it once the payment waits for no result.
   */
  async recordGatewayResult(orderId: string, result: AuthorizationResult, finishPoll?: FinishPoll): Promise<void> {
    const known = await this.payments.findByOrder(this.dataSource.manager, orderId);
    if (!known) throw new PaymentNotFound('No payment for this reference');
    await this.messaging.transaction(
      async (uow) => {
        const payment = await this.payments.findByOrder(uow.manager, orderId, { forUpdate: true });
        if (!payment) throw new PaymentNotFound('No payment for this reference');
        const change = payment.recordResult(result, new Date());
        if (change.changed) await this.payments.update(uow, payment);
        publishEvents(uow, payment, change.events);
        if (finishPoll) await finishPoll(uow.manager);
        else await this.authorizationPoll.cancelUnlessAwaited(uow.manager, payment);
      },
      // Late events belong to the order's conversation, not to the gateway's HTTP request.
      { correlationId: known.snapshot.correlationId },
    );
  }
}
