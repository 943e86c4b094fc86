/**
 * Delivers due notifications: the handler of the scheduler's `notification.deliver` jobs.
 *
 * One attempt is three steps. (1) In a transaction: lock the notification, record the attempt as begun, commit.
 * (2) POST it, with no transaction open. (3) In a transaction: record how the attempt ended, and settle the job
 * (done, or due again at the next retry) with it. A process that stops between (1) and (3) leaves an attempt that
 * began and never ended; the next run (once the job's lease expires) records it as INTERRUPTED and follows the
 * schedule from there, so no attempt number is ever sent twice and nothing is lost. The merchant may have received
 * the interrupted attempt: that is why every attempt carries the same webhook-id.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MetricsRegistry, SERVICE_CONFIG } from '@orderflow/platform';
import { type ClaimedJob, type JobContext, JobLeaseLost, JobRunner } from '@orderflow/scheduling';
import { Counter } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import type { Notification } from './notification.js';
import { NotificationsRepository } from './notifications.repository.js';
import { DELIVER_NOTIFICATION } from './notifications.service.js';
import { type DeliveryResult, WebhookDelivery } from './webhook-delivery.js';
import { WebhookSigningSecrets } from './webhook-signing-secrets.js';

/** Longer than an attempt can take (its timeout, plus the two short transactions), so a live attempt keeps its job. */
const leaseFor = (timeoutMs: number) => 2 * timeoutMs + 5_000;

/**
 * What step (1) found: an attempt begun, to send; an interrupted attempt recorded and the job moved to the next
 * attempt's time or settled; or nothing due (the notification is gone or settled), the job completed.
 */
type Claim =
  | { kind: 'begun'; number: number; notification: Notification }
  | { kind: 'rescheduled'; notification: Notification }
  | { kind: 'not-due' };

@Injectable()
export class NotificationDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Notifications');
  private readonly attemptsCounter: Counter<'outcome'>;
  private readonly settledCounter: Counter<'state'>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: OrderServiceConfig,
    private readonly dataSource: DataSource,
    private readonly notifications: NotificationsRepository,
    private readonly signingSecrets: WebhookSigningSecrets,
    private readonly delivery: WebhookDelivery,
    private readonly runner: JobRunner,
    registry: MetricsRegistry,
  ) {
    this.attemptsCounter = new Counter({
      name: 'orderflow_notification_attempts_total',
      help: 'Attempts to deliver a merchant notification, by outcome (ACKNOWLEDGED, FAILED, INTERRUPTED)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.settledCounter = new Counter({
      name: 'orderflow_notifications_settled_total',
      help: 'Notifications that reached DELIVERED, or FAILED after their last scheduled attempt',
      labelNames: ['state'],
      registers: [registry],
    });
  }

  onModuleInit(): void {
    this.runner.register(DELIVER_NOTIFICATION, (job, context) => this.deliver(job, context), {
      concurrency: this.config.NOTIFICATION_CONCURRENCY,
      perGroup: this.config.NOTIFICATION_CONCURRENCY_PER_MERCHANT,
      leaseMs: leaseFor(this.config.NOTIFICATION_TIMEOUT_MS),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.delivery.close();
  }

  private async deliver(job: ClaimedJob, context: JobContext): Promise<void> {
    const claim = await this.beginAttempt(job.key, context);
    if (claim.kind === 'not-due') return;
    if (claim.kind === 'rescheduled') return this.reportSettled(claim.notification);
    const result = await this.send(claim.notification);
    const outcome = result.acknowledged ? 'ACKNOWLEDGED' : 'FAILED';
    const settled = await this.endAttempt(job, context, claim.number, outcome, result);
    this.reportAttempt(settled, claim.number, outcome, result);
  }

  /** Step (1): records the attempt as begun, after ending the one a stopped process left open, if any. */
  private beginAttempt(id: string, context: JobContext): Promise<Claim> {
    return this.dataSource.transaction(async (manager): Promise<Claim> => {
      const notification = await this.notifications.find(manager, id, true);
      if (!notification || notification.snapshot.state !== 'PENDING') {
        await context.complete(manager);
        return { kind: 'not-due' };
      }
      const now = new Date();
      if (await this.endInterruptedAttempt(manager, notification, now)) {
        await this.notifications.update(manager, notification);
        await this.settle(manager, notification, context);
        return { kind: 'rescheduled', notification };
      }
      const number = notification.beginAttempt();
      if (number === undefined) throw new Error(`notification ${id} is pending but cannot begin an attempt`);
      await this.notifications.beginAttempt(manager, id, number, now);
      await this.notifications.update(manager, notification);
      return { kind: 'begun', number, notification };
    });
  }

  /**
   * Records an attempt that began and never ended as INTERRUPTED; true when the schedule then says to wait for the
   * next attempt, or that there is none, rather than to attempt again now.
   */
  private async endInterruptedAttempt(manager: EntityManager, notification: Notification, now: Date): Promise<boolean> {
    const id = notification.snapshot.id;
    const interrupted = await this.notifications.openAttempt(manager, id);
    if (!interrupted) return false;
    await this.notifications.endAttempt(manager, id, interrupted.attempt, {
      outcome: 'INTERRUPTED',
      at: now,
      error: 'the notifying process stopped during this attempt',
    });
    this.attemptsCounter.inc({ outcome: 'INTERRUPTED' });
    const next = notification.endAttempt('INTERRUPTED', now);
    return !next || next > now;
  }

  /** Step (2): signs with the merchant's current secrets and POSTs, with no transaction open. */
  private async send(notification: Notification): Promise<DeliveryResult> {
    const s = notification.snapshot;
    const secrets = await this.signingSecrets.signingSecrets(s.merchantId);
    if (secrets.length === 0) {
      return { acknowledged: false, latencyMs: 0, error: 'the merchant has no webhook signing secret' };
    }
    return this.delivery.deliver({
      url: s.callbackUrl,
      webhookId: s.id,
      body: notification.body,
      secrets,
      at: new Date(),
    });
  }

  /** Step (3): records how the attempt ended and settles the job with it; returns the notification as committed. */
  private endAttempt(
    job: ClaimedJob,
    context: JobContext,
    number: number,
    outcome: 'ACKNOWLEDGED' | 'FAILED',
    result: DeliveryResult,
  ): Promise<Notification> {
    const id = job.key;
    return this.dataSource.transaction(async (manager) => {
      const current = await this.notifications.find(manager, id, true);
      const open = await this.notifications.openAttempt(manager, id);
      // Another run recorded this attempt as interrupted (this one outlived its lease): its record stands.
      if (!current || open?.attempt !== number) throw new JobLeaseLost(job);
      const now = new Date();
      await this.notifications.endAttempt(manager, id, number, {
        outcome,
        at: now,
        statusCode: result.statusCode,
        latencyMs: Math.round(result.latencyMs),
        error: result.error,
      });
      current.endAttempt(outcome, now);
      await this.notifications.update(manager, current);
      await this.settle(manager, current, context);
      return current;
    });
  }

  /** Ends the job with the notification, or moves it to the next attempt's time, in the notification's transaction. */
  private async settle(
    manager: Parameters<JobContext['complete']>[0],
    notification: Notification,
    context: JobContext,
  ): Promise<void> {
    const { nextAttemptAt } = notification.snapshot;
    if (nextAttemptAt) await context.retryAt(manager, nextAttemptAt);
    else await context.complete(manager);
  }

  /** Counted and logged once the transaction that recorded the attempt has committed. */
  private reportAttempt(
    notification: Notification,
    number: number,
    outcome: 'ACKNOWLEDGED' | 'FAILED',
    result: DeliveryResult,
  ): void {
    this.attemptsCounter.inc({ outcome });
    this.reportSettled(notification);
    if (result.acknowledged) return;
    this.logger.warn({
      message: 'notification attempt failed',
      notificationId: notification.snapshot.id,
      orderId: notification.snapshot.orderId,
      attempt: number,
      reason: result.error,
    });
  }

  /** Counted and logged once the transaction that settled it has committed. */
  private reportSettled(notification: Notification): void {
    const s = notification.snapshot;
    if (s.state === 'PENDING') return;
    this.settledCounter.inc({ state: s.state });
    if (s.state === 'FAILED') {
      this.logger.error({
        message: 'notification failed after its last scheduled attempt; an operator may redeliver it',
        notificationId: s.id,
        orderId: s.orderId,
        merchantId: s.merchantId,
        attempts: s.attempts,
      });
    }
  }
}
