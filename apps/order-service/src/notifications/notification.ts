/**
 * A notification of one order status change to the merchant's callback URL, and the rules of its delivery: attempts
 * follow its retry schedule until one is acknowledged or none is left; an attempt that was under way when its
 * process stopped counts as failed (it is not sent again under the same number, and the schedule goes on); an
 * operator may start a new round of attempts. The payload never changes, so every attempt carries the same
 * notification id, and receivers can drop duplicates.
 */
import { attemptsAllowed, delayAfterAttempt, type RetrySchedule } from './retry-schedule.js';
import { Conflict } from '@orderflow/platform/domain-errors';

export const NOTIFICATION_STATES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** The body merchants receive. */
export interface NotificationPayload {
  notificationId: string;
  orderId: string;
  status: string;
  statusReason?: string;
  /** Grows with each status of the order (PENDING at placement is 1): a lower one than the last seen is stale. */
  sequence: number;
  occurredAt: string;
}

export interface NotificationSnapshot {
  id: string;
  orderId: string;
  merchantId: string;
  callbackUrl: string;
  payload: NotificationPayload;
  schedule: RetrySchedule;
  state: NotificationState;
  /** Attempts made in all rounds; attempt numbers are 1, 2, … across rounds. */
  attempts: number;
  /** Attempts made in the current round, which the schedule counts. */
  roundAttempts: number;
  nextAttemptAt?: Date;
  createdAt: Date;
  settledAt?: Date;
  version: number;
}

export type AttemptOutcome = 'ACKNOWLEDGED' | 'FAILED' | 'INTERRUPTED';

export class NotificationNotRedeliverable extends Conflict {
  constructor() {
    super('an attempt of this notification is under way; redeliver it once the attempt has ended');
  }
}

export class Notification {
  private constructor(private state: NotificationSnapshot) {}

  static create(input: {
    id: string;
    orderId: string;
    merchantId: string;
    callbackUrl: string;
    status: string;
    statusReason?: string;
    sequence: number;
    occurredAt: Date;
    schedule: RetrySchedule;
    now: Date;
  }): Notification {
    return new Notification({
      id: input.id,
      orderId: input.orderId,
      merchantId: input.merchantId,
      callbackUrl: input.callbackUrl,
      payload: {
        notificationId: input.id,
        orderId: input.orderId,
        status: input.status,
        ...(input.statusReason !== undefined && { statusReason: input.statusReason }),
        sequence: input.sequence,
        occurredAt: input.occurredAt.toISOString(),
      },
      schedule: input.schedule,
      state: 'PENDING',
      attempts: 0,
      roundAttempts: 0,
      nextAttemptAt: new Date(input.now.getTime() + input.schedule.firstAttemptDelayMs),
      createdAt: input.now,
      version: 1,
    });
  }

  static restore(snapshot: NotificationSnapshot): Notification {
    return new Notification(snapshot);
  }

  get snapshot(): Readonly<NotificationSnapshot> {
    return this.state;
  }

  /** The body as sent: the signature covers exactly these bytes. */
  get body(): string {
    return JSON.stringify(this.state.payload);
  }

  /** Starts the next attempt; returns its number, or undefined when the notification is not pending. */
  beginAttempt(): number | undefined {
    if (this.state.state !== 'PENDING') return undefined;
    this.state = { ...this.state, attempts: this.state.attempts + 1, roundAttempts: this.state.roundAttempts + 1 };
    return this.state.attempts;
  }

  /** Records how the current attempt ended; returns when to try again, or undefined if settled. */
  endAttempt(outcome: AttemptOutcome, now: Date): Date | undefined {
    if (outcome === 'ACKNOWLEDGED') {
      this.state = { ...this.state, state: 'DELIVERED', nextAttemptAt: undefined, settledAt: now };
      return undefined;
    }
    const delay = delayAfterAttempt(this.state.schedule.strategy, this.state.roundAttempts);
    if (delay === undefined) {
      this.state = { ...this.state, state: 'FAILED', nextAttemptAt: undefined, settledAt: now };
      return undefined;
    }
    const next = new Date(now.getTime() + delay);
    this.state = { ...this.state, nextAttemptAt: next };
    return next;
  }

  /**
   * Starts a new round of attempts now (an operator, after the merchant fixed its endpoint); a pending notification
   * is attempted now instead of at its next scheduled time. Refused while an attempt is under way.
   */
  redeliver(now: Date, attemptUnderWay: boolean): void {
    if (attemptUnderWay) throw new NotificationNotRedeliverable();
    this.state = {
      ...this.state,
      state: 'PENDING',
      roundAttempts: this.state.state === 'PENDING' ? this.state.roundAttempts : 0,
      nextAttemptAt: now,
      settledAt: undefined,
    };
  }

  /** Attempts the schedule allows in one round. */
  get attemptsPerRound(): number {
    return attemptsAllowed(this.state.schedule.strategy);
  }
}
