/**
 * Does the gateway work that payments have left due (see Payment: re-requests the gateway asked for, reversals,
 * voids of late approvals): the handler of the durable scheduler's `payment.gateway-follow-up` jobs, which the
 * repository writes in the transaction that makes the work due (ADR 0021). The job is a row, so a restart loses
 * none; a runner claims it by lease, so one replica at a time does it, and another takes it over once the lease of a
 * replica that died runs out.
 *
 * Each run is one transaction: the payment is locked, the Payment says what is due, the gateway is called, and the
 * outcome, the events it leads to and the job's settlement (done, or due again when the Payment says) commit
 * together. A run whose lease ran out and was taken over cannot settle, and rolls back; the gateway call it made is
 * then made again by the other run, which the gateway's idempotency makes harmless. Work that fails stays due, later,
 * with backoff, and so does a run that throws.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Messaging, type UnitOfWork } from '@orderflow/messaging';
import { SERVICE_CONFIG } from '@orderflow/platform';
import { type ClaimedJob, type JobContext, JobRunner } from '@orderflow/scheduling';
import type { PaymentServiceConfig } from '../config.js';
import { AuthorizationPoll } from './authorization-poll.js';
import { followUpRetryDelay, type Payment, type PaymentEvent } from './payment.js';
import { PaymentGateway } from './payment-gateway.js';
import { publishEvents } from './payment-messages.js';
import { type FollowUpJob, GATEWAY_FOLLOW_UP, PaymentsRepository } from './payments.repository.js';

/** Follow-ups in flight at once per replica: each holds a pooled connection and the payment's lock while it runs. */
const CONCURRENCY = 4;

/**
 * Longer than a run can take — waiting for the payment's lock (its holder makes at most one gateway call), then its
 * own gateway call — so that a live run keeps its job.
 */
const leaseFor = (gatewayTimeoutMs: number) => 2 * gatewayTimeoutMs + 5_000;

@Injectable()
export class GatewayFollowUps implements OnModuleInit {
  private readonly logger = new Logger('GatewayFollowUps');

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: PaymentServiceConfig,
    private readonly messaging: Messaging,
    private readonly payments: PaymentsRepository,
    private readonly gateway: PaymentGateway,
    private readonly authorizationPoll: AuthorizationPoll,
    private readonly runner: JobRunner,
  ) {}

  onModuleInit(): void {
    this.runner.register<FollowUpJob>(GATEWAY_FOLLOW_UP, (job, context) => this.run(job, context), {
      concurrency: CONCURRENCY,
      leaseMs: leaseFor(this.config.PAYMENT_GATEWAY_TIMEOUT_MS),
      backoff: followUpRetryDelay,
    });
  }

  private async run(job: ClaimedJob<FollowUpJob>, context: JobContext): Promise<void> {
    await this.messaging.transaction((uow) => this.followUp(uow, job.key, context), {
      correlationId: job.payload.correlationId,
    });
  }

  private async followUp(uow: UnitOfWork, id: string, context: JobContext): Promise<void> {
    const payment = await this.payments.find(uow.manager, id, { forUpdate: true });
    const call = payment?.dueFollowUp(new Date());
    if (!payment || !call) {
      // Done, or moved, by the change the payment saw last: the job goes, or waits for the follow-up's time.
      await this.settle(uow, payment, context);
      return;
    }
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
    // Settled before the save: the save then finds the job where the settlement put it, and leaves it there.
    await this.settle(uow, payment, context);
    await this.payments.update(uow, payment);
    publishEvents(uow, payment, events);
  }

  /** Ends the job, or puts it back due when the payment's follow-up is, checked against this run's lease. */
  private async settle(uow: UnitOfWork, payment: Payment | undefined, context: JobContext): Promise<void> {
    const followUp = payment?.snapshot.followUp;
    if (!payment || !followUp) return context.complete(uow.manager);
    const dueAt = new Date(followUp.dueAt);
    // Due, yet nothing to do: a payment the Payment cannot follow up. Thrown, so it is retried with backoff and seen.
    if (dueAt.getTime() <= Date.now() && !payment.dueFollowUp(new Date())) {
      throw new Error(`payment ${payment.snapshot.id} has a ${followUp.action} follow-up due that it cannot make`);
    }
    return context.retryAt(uow.manager, dueAt);
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
