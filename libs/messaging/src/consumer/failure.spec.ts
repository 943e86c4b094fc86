import { randomUUID } from 'node:crypto';
import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS, deadLetterRow, retryDelayMs, retryRow, type RetryPolicy } from './failure.js';
import { ATTEMPT_HEADER } from './incoming-message.js';

const policy: RetryPolicy = { maxAttempts: 20, baseDelayMs: 1_000, maxDelayMs: 60_000 };
const ceilingOf = (attempt: number) => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));

function delivery(headers: Record<string, unknown> = {}, messageId: unknown = randomUUID()): Message {
  return {
    content: Buffer.from(JSON.stringify({ specversion: '1.0', type: 'payment.authorize.v1' })),
    fields: { deliveryTag: 1, redelivered: false, exchange: 'orderflow.commands', routingKey: 'payment.authorize.v1' },
    properties: {
      contentType: 'application/cloudevents+json',
      contentEncoding: 'utf-8',
      messageId,
      type: 'payment.authorize.v1',
      correlationId: 'req-1',
      appId: 'saga',
      timestamp: 1_760_000_000,
      headers: {
        subject: 'order-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        ...headers,
      },
    },
  } as unknown as Message;
}

describe('retryDelayMs', () => {
  it('doubles its ceiling with each attempt, up to maxDelayMs', () => {
    const highest = (attempt: number) => retryDelayMs(attempt, policy, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(highest)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('waits at least half its ceiling ("equal jitter")', () => {
    const lowest = (attempt: number) => retryDelayMs(attempt, policy, () => 0);
    expect([1, 2, 3, 7, 20].map(lowest)).toEqual([500, 1_000, 2_000, 30_000, 30_000]);
  });

  it('spreads between half the ceiling and the ceiling, never above maxDelayMs', () => {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const delay = retryDelayMs(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(ceilingOf(attempt) / 2);
        expect(delay).toBeLessThanOrEqual(ceilingOf(attempt));
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }
    }
  });

  it('grows with the attempt for the same draw', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, policy, () => 0.37));
    for (let i = 1; i < delays.length; i += 1) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
  });

  it('treats an attempt below 1 as the first', () => {
    expect(retryDelayMs(0, policy, () => 1)).toBe(1_000);
    expect(retryDelayMs(-3, policy, () => 1)).toBe(1_000);
  });
});

describe('retryRow', () => {
  it('puts the same body back on the queue through orderflow.retry, as the next attempt, after the delay', () => {
    const msg = delivery({ [ATTEMPT_HEADER]: 2 });

    const row = retryRow(msg, 'payment.commands', 2, new Error('gateway timed out'), 4_000);

    expect(row).toMatchObject({
      messageId: msg.properties.messageId as string,
      exchange: 'orderflow.retry',
      routingKey: 'payment.commands',
      orderingKey: null,
      delayMs: 4_000,
    });
    expect(row.body.equals(msg.content)).toBe(true);
    expect(row.properties).toMatchObject({
      persistent: true,
      contentType: 'application/cloudevents+json',
      type: 'payment.authorize.v1',
      correlationId: 'req-1',
      appId: 'saga',
      timestamp: 1_760_000_000,
      headers: {
        subject: 'order-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        [ATTEMPT_HEADER]: 3,
        'x-orderflow-last-error': 'gateway timed out',
      },
    });
  });

  it('makes a first delivery, which has no attempt header, attempt 2', () => {
    const row = retryRow(delivery(), 'payment.commands', 1, new Error('x'), 500);
    expect((row.properties.headers as Record<string, unknown>)[ATTEMPT_HEADER]).toBe(2);
  });

  it('keeps a long error short', () => {
    const row = retryRow(delivery(), 'payment.commands', 1, new Error('e'.repeat(5_000)), 500);
    const lastError = (row.properties.headers as Record<string, string>)['x-orderflow-last-error'];
    expect(lastError).toHaveLength(1_000);
    expect(lastError.endsWith('...')).toBe(true);
  });

  it('gives a message without a UUID message id a fresh row id', () => {
    const row = retryRow(delivery({}, 'not-a-uuid'), 'payment.commands', 1, new Error('x'), 500);
    expect(row.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe('deadLetterRow', () => {
  it('sends the same body to the queue’s DLQ through orderflow.dead-letters, saying why, where, when and after how many attempts', () => {
    const msg = delivery({ [ATTEMPT_HEADER]: 5 });
    const before = Date.now();

    const row = deadLetterRow(
      msg,
      'payment.commands',
      'payment',
      5,
      'attempts-exhausted',
      new TypeError('cannot read amount'),
    );

    expect(row).toMatchObject({
      messageId: msg.properties.messageId as string,
      exchange: 'orderflow.dead-letters',
      routingKey: 'payment.commands',
      orderingKey: null,
    });
    expect(row.delayMs ?? 0).toBe(0);
    expect(row.body.equals(msg.content)).toBe(true);
    const headers = row.properties.headers as Record<string, unknown>;
    expect(headers).toMatchObject({
      subject: 'order-1',
      [DEAD_LETTER_HEADERS.reason]: 'attempts-exhausted',
      [DEAD_LETTER_HEADERS.error]: 'TypeError: cannot read amount',
      [DEAD_LETTER_HEADERS.queue]: 'payment.commands',
      [DEAD_LETTER_HEADERS.service]: 'payment',
      [DEAD_LETTER_HEADERS.attempts]: 5,
      'x-orderflow-dead-letter-queue': 'payment.commands.dlq',
    });
    const failedAt = Date.parse(headers[DEAD_LETTER_HEADERS.failedAt] as string);
    expect(failedAt).toBeGreaterThanOrEqual(before);
    expect(failedAt).toBeLessThanOrEqual(Date.now());
    expect(row.properties).toMatchObject({ persistent: true, type: 'payment.authorize.v1', correlationId: 'req-1' });
  });

  it('keeps the header names operators and docs/messaging.md rely on', () => {
    expect(Object.values(DEAD_LETTER_HEADERS)).toEqual([
      'x-orderflow-dead-letter-reason',
      'x-orderflow-error',
      'x-orderflow-queue',
      'x-orderflow-service',
      'x-orderflow-failed-at',
      'x-orderflow-attempts',
    ]);
  });
});
