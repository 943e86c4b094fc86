/** Answers the authorisation poll (authorization-poll.ts says why it exists): asks the gateway, records its answer. */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Messaging } from '@orderflow/messaging';
import { type FinishPoll, formatDuration, type PollAnswer, StatusPolls } from '@orderflow/scheduling';
import { AuthorizationPoll, type AuthorizationPollData } from './authorization-poll.js';
import { PaymentGateway } from './payment-gateway.js';
import { publishEvents } from './payment-messages.js';
import { PaymentsRepository } from './payments.repository.js';
import { PaymentsService } from './payments.service.js';

@Injectable()
export class AuthorizationPolling implements OnModuleInit {
  constructor(
    private readonly polls: StatusPolls,
    private readonly authorizations: AuthorizationPoll,
    private readonly gateway: PaymentGateway,
    private readonly payments: PaymentsService,
    private readonly repository: PaymentsRepository,
    private readonly messaging: Messaging,
  ) {}

  onModuleInit(): void {
    this.polls.answer(this.authorizations.poll, {
      ask: (data, _key, finish) => this.ask(data, finish),
      windowEnded: (data, _key, finish) => this.windowEnded(data, finish),
    });
  }

  private async ask(data: AuthorizationPollData, finish: FinishPoll): Promise<PollAnswer> {
    const status = await this.gateway.authorization(data.authorizationId);
    if (status.kind === 'unavailable') return { outcome: 'unanswered', reason: status.reason };
    if (status.kind === 'pending') return { outcome: 'pending' };
    await this.payments.recordGatewayResult(data.orderId, status.result, finish);
    return { outcome: 'applied' };
  }

  private async windowEnded(data: AuthorizationPollData, finish: FinishPoll): Promise<void> {
    const window = formatDuration(this.authorizations.poll.schedule.windowMs);
    await this.messaging.transaction(
      async (uow) => {
        const payment = await this.repository.findByOrder(uow.manager, data.orderId, { forUpdate: true });
        await finish(uow.manager);
        if (!payment) return;
        const reason = `the gateway reported no result for authorisation ${data.authorizationId} within ${window}`;
        const change = payment.recordNoResult(reason, new Date());
        if (change.changed) await this.repository.update(uow, payment);
        publishEvents(uow, payment, change.events);
      },
      { correlationId: data.correlationId },
    );
  }
}
