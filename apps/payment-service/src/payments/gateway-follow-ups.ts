/**
 * Does the gateway work that payments have left due (see Payment: re-requests the gateway asked for, reversals,
 * voids of late approvals). The due time lives with the payment in PostgreSQL, so work survives a restart; this
 * poller only looks for what is due. Each payment's work is one transaction: the payment is locked (SKIP LOCKED,
 * so replicas share the work and never do it twice at once), the gateway is called, and the outcome is saved with
 * the events it leads to. Work that fails stays due, later, with backoff.
 */
import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { Messaging, type UnitOfWork } from '@orderflow/messaging';
import { DataSource } from 'typeorm';
import { AuthorizationPoll } from './authorization-poll.js';
import type { Payment, PaymentEvent } from './payment.js';
import { PaymentGateway } from './payment-gateway.js';
import { publishEvents } from './payment-messages.js';
import { PaymentsRepository } from './payments.repository.js';

/** How often to look for due work; a re-request waits this much longer than the gateway asked, at most. */
const POLL_INTERVAL_MS = 250;
const BATCH_SIZE = 20;

@Injectable()
export class GatewayFollowUps implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GatewayFollowUps');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly payments: PaymentsRepository,
    private readonly gateway: PaymentGateway,
    private readonly authorizationPoll: AuthorizationPoll,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Does the work due now, one payment per transaction. */
  async runDue(): Promise<void> {
    const due = await this.payments.dueFollowUps(this.dataSource.manager, BATCH_SIZE);
    for (const { id, correlationId } of due) {
      if (this.stopping) return;
      try {
        await this.messaging.transaction((uow) => this.followUp(uow, id), { correlationId });
      } catch (err) {
        // Rolled back: the work is still due and the next poll tries it again.
        this.logger.warn({ message: 'follow-up failed; it stays due', paymentId: id, reason: (err as Error).message });
      }
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.runDue()
        .catch((err: Error) => this.logger.warn({ message: 'looking for due follow-ups failed', reason: err.message }))
        .finally(() => {
          if (!this.stopping) this.schedule(POLL_INTERVAL_MS);
        });
    }, delayMs);
  }

  private async followUp(uow: UnitOfWork, id: string): Promise<void> {
    const payment = await this.payments.lockForFollowUp(uow.manager, id);
    const call = payment?.dueFollowUp(new Date());
    if (!payment || !call) return;
    let events: PaymentEvent[] = [];
    switch (call.action) {
      case 'REAUTHORIZE': {
        const answer = await this.gateway.authorize(call.request);
        if (answer.kind === 'unavailable') this.report(payment, answer.reason);
        events = payment.recordReauthorization(answer, new Date());
        // A re-request answered pending is awaited like the first one.
        await this.authorizationPoll.startIfAwaited(uow.manager, payment);
        break;
      }
      case 'REVERSE':
      case 'VOID': {
        const answer =
          call.action === 'REVERSE'
            ? await this.gateway.reverse(call.idempotencyKey)
            : await this.gateway.void(call.authorizationId);
        if (answer.kind !== 'done') this.report(payment, answer.reason, answer.kind === 'rejected');
        payment.recordFollowUpOperation(answer, new Date());
        break;
      }
    }
    await this.payments.update(uow.manager, payment);
    publishEvents(uow, payment, events);
  }

  private report(payment: Payment, reason: string, refused = false): void {
    const { id, orderId, followUp } = payment.snapshot;
    const entry = {
      message: 'gateway follow-up will be retried',
      paymentId: id,
      orderId,
      action: followUp?.action,
      reason,
    };
    // A refusal will not go away by itself: someone has to look at it.
    if (refused) this.logger.error(entry);
    else this.logger.warn(entry);
  }
}
