import { describe, expect, it } from 'vitest';
import { Notification, NotificationNotRedeliverable } from './notification.js';
import { parseIntervals } from './retry-schedule.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s));

function notification(firstAttemptDelayMs = 0) {
  return Notification.create({
    id: 'n-1',
    orderId: 'o-1',
    merchantId: 'm-1',
    callbackUrl: 'https://merchant.example/hooks',
    status: 'CANCELLED',
    statusReason: 'PAYMENT_DECLINED',
    sequence: 3,
    occurredAt: at(0),
    schedule: { strategy: parseIntervals('10s,20s'), firstAttemptDelayMs },
    now: at(1),
  });
}

describe('a notification', () => {
  it('carries the payload merchants receive, the same on every attempt', () => {
    const n = notification();
    expect(JSON.parse(n.body)).toEqual({
      notificationId: 'n-1',
      orderId: 'o-1',
      status: 'CANCELLED',
      statusReason: 'PAYMENT_DECLINED',
      sequence: 3,
      occurredAt: at(0).toISOString(),
    });
    n.beginAttempt();
    n.endAttempt('FAILED', at(2));
    expect(JSON.parse(n.body)).toMatchObject({ notificationId: 'n-1', sequence: 3 });
  });

  it("is first attempted after the schedule's start delay", () => {
    expect(notification().snapshot.nextAttemptAt).toEqual(at(1));
    expect(notification(30_000).snapshot.nextAttemptAt).toEqual(at(31));
  });

  it('follows its schedule after failures, then fails after the last attempt', () => {
    const n = notification();
    expect(n.beginAttempt()).toBe(1);
    expect(n.endAttempt('FAILED', at(2))).toEqual(at(12));
    expect(n.beginAttempt()).toBe(2);
    expect(n.endAttempt('INTERRUPTED', at(13))).toEqual(at(33));
    expect(n.beginAttempt()).toBe(3);
    expect(n.endAttempt('FAILED', at(34))).toBeUndefined();
    expect(n.snapshot).toMatchObject({ state: 'FAILED', attempts: 3, settledAt: at(34) });
    expect(n.snapshot.nextAttemptAt).toBeUndefined();
    expect(n.beginAttempt()).toBeUndefined();
  });

  it('is delivered by an acknowledged attempt and then attempted no more', () => {
    const n = notification();
    n.beginAttempt();
    expect(n.endAttempt('ACKNOWLEDGED', at(2))).toBeUndefined();
    expect(n.snapshot).toMatchObject({ state: 'DELIVERED', settledAt: at(2) });
    expect(n.beginAttempt()).toBeUndefined();
  });

  it('starts a whole new round when redelivered after failing, numbering attempts on', () => {
    const n = notification();
    for (const s of [2, 13, 34]) {
      n.beginAttempt();
      n.endAttempt('FAILED', at(s));
    }
    n.redeliver(at(40), false);
    expect(n.snapshot).toMatchObject({ state: 'PENDING', roundAttempts: 0, nextAttemptAt: at(40) });
    expect(n.snapshot.settledAt).toBeUndefined();
    expect(n.beginAttempt()).toBe(4);
    expect(n.endAttempt('FAILED', at(41))).toEqual(at(51));
  });

  it('is attempted at once, in the same round, when a pending one is redelivered; not while an attempt is under way', () => {
    const n = notification();
    n.beginAttempt();
    n.endAttempt('FAILED', at(2));
    n.redeliver(at(5), false);
    expect(n.snapshot).toMatchObject({ nextAttemptAt: at(5), roundAttempts: 1 });
    expect(() => n.redeliver(at(6), true)).toThrow(NotificationNotRedeliverable);
  });
});
