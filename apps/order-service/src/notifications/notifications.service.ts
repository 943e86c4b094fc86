/**
 * Merchant notifications: created in the transaction that records an order's new status (so a change is notified
 * if and only if it committed), with the delivery job scheduled in that same transaction; read by the order's
 * merchant and by operators; redelivered by operators.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SERVICE_CONFIG } from '@orderflow/platform';
import { JobRunner, JobStore } from '@orderflow/scheduling';
import { DataSource, type EntityManager } from 'typeorm';
import type { OrderServiceConfig } from '../config.js';
import type { Order } from '../orders/order.js';
import { type OrderStatusListener, OrderStatusChanges } from '../orders/order-status-changes.js';
import { Notification } from './notification.js';
import { NotificationsRepository, type NotificationWithAttempts } from './notifications.repository.js';
import { type NotificationPolicy, type RetrySchedule, scheduleFor } from './retry-schedule.js';
import { NotFound } from '@orderflow/platform/domain-errors';

/** The scheduler topic of notification deliveries; a job's key is the notification id. */
export const DELIVER_NOTIFICATION = 'notification.deliver';

export class NotificationNotFound extends NotFound {
  constructor() {
    super('No notification with this id');
  }
}

export class MerchantUnknown extends NotFound {
  constructor() {
    super('No merchant with this id');
  }
}

@Injectable()
export class NotificationsService implements OrderStatusListener, OnModuleInit {
  private readonly fallbackSchedule: RetrySchedule;

  constructor(
    @Inject(SERVICE_CONFIG) config: OrderServiceConfig,
    private readonly dataSource: DataSource,
    private readonly notifications: NotificationsRepository,
    private readonly jobs: JobStore,
    private readonly runner: JobRunner,
    private readonly statusChanges: OrderStatusChanges,
  ) {
    this.fallbackSchedule = {
      strategy: config.NOTIFICATION_RETRY_SCHEDULE,
      firstAttemptDelayMs: config.NOTIFICATION_FIRST_ATTEMPT_DELAY,
    };
  }

  onModuleInit(): void {
    this.statusChanges.subscribe(this);
  }

  /**
   * Notifies the order's merchant of the status the order just took, in the caller's transaction. Orders without a
   * callback URL, and orders from before merchants existed (no one to sign for), notify no one.
   */
  async statusChanged(manager: EntityManager, order: Order, now: Date): Promise<void> {
    const s = order.snapshot;
    if (!s.callbackUrl || !s.merchantId) return;
    const policy = await this.notifications.merchantPolicy(manager, s.merchantId);
    const notification = Notification.create({
      id: randomUUID(),
      orderId: s.id,
      merchantId: s.merchantId,
      callbackUrl: s.callbackUrl,
      status: s.status,
      statusReason: s.status === 'CANCELLED' ? s.statusReason : undefined,
      sequence: s.history.length,
      occurredAt: new Date(s.updatedAt),
      schedule: scheduleFor(s.status, policy, this.fallbackSchedule),
      now,
    });
    await this.notifications.insert(manager, notification);
    await this.scheduleNext(manager, notification);
  }

  /** The order's notifications, or undefined when the caller may not see the order (or there is none). */
  async forOrder(
    scope: { merchantId: string } | 'all',
    orderId: string,
  ): Promise<NotificationWithAttempts[] | undefined> {
    const owner = await this.notifications.orderOwner(this.dataSource.manager, orderId);
    if (!owner || (scope !== 'all' && owner.merchantId !== scope.merchantId)) return undefined;
    return this.notifications.forOrder(this.dataSource.manager, orderId);
  }

  async failed(limit: number): Promise<NotificationWithAttempts[]> {
    return this.notifications.failed(this.dataSource.manager, limit);
  }

  /** Starts a new round of attempts now; throws NotificationNotRedeliverable while an attempt is under way. */
  async redeliver(id: string): Promise<NotificationWithAttempts> {
    await this.dataSource.transaction(async (manager) => {
      const notification = await this.notifications.find(manager, id, true);
      if (!notification) throw new NotificationNotFound();
      const underWay = await this.notifications.openAttempt(manager, id);
      notification.redeliver(new Date(), underWay !== undefined);
      await this.notifications.update(manager, notification);
      await this.scheduleNext(manager, notification);
    });
    this.runner.wake(DELIVER_NOTIFICATION);
    const found = await this.notifications.withAttemptsById(this.dataSource.manager, id);
    if (!found) throw new NotificationNotFound();
    return found;
  }

  /** The merchant's own schedule, if it has one; throws NotificationNotFound for an unknown merchant. */
  async policy(merchantId: string): Promise<NotificationPolicy | undefined> {
    if (!(await this.notifications.merchantExists(this.dataSource.manager, merchantId))) throw new MerchantUnknown();
    return this.notifications.merchantPolicy(this.dataSource.manager, merchantId);
  }

  /** Applies to notifications created from now on; those under way keep the schedule they started with. */
  async setPolicy(merchantId: string, policy: NotificationPolicy | undefined): Promise<void> {
    if (!(await this.notifications.setMerchantPolicy(this.dataSource.manager, merchantId, policy)))
      throw new MerchantUnknown();
  }

  async scheduleNext(manager: EntityManager, notification: Notification): Promise<void> {
    const s = notification.snapshot;
    if (!s.nextAttemptAt) return;
    await this.jobs.schedule(manager, {
      topic: DELIVER_NOTIFICATION,
      key: s.id,
      dueAt: s.nextAttemptAt,
      group: s.merchantId,
    });
  }
}
