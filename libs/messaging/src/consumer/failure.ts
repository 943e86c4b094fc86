/**
 * What happens to a message its handler could not handle: a delayed retry with exponential backoff and jitter,
 * or the dead-letter queue with headers that say why, where, when and after how many attempts.
 *
 * Both are written as outbox rows — a retry is an outbox row due later, addressed to the queue through
 * `orderflow.retry` — so the delay lives in PostgreSQL, not in a timer of this process: it survives a restart of
 * the service and of the broker, and the original delivery is acknowledged only once that row has committed.
 */
import { randomUUID } from 'node:crypto';
import { isUuid } from '@orderflow/platform';
import type { Message } from 'amqplib';
import type { OutboxRow } from '../outbox/outbox-store.js';
import { deadLetterQueueOf, EXCHANGES } from '../topology/topology.js';
import { ATTEMPT_HEADER } from './incoming-message.js';

export interface RetryPolicy {
  /** Deliveries in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

/** "Equal jitter": half the exponential step for sure, the other half at random, so delays grow and spread. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export const DEAD_LETTER_HEADERS = {
  reason: 'x-orderflow-dead-letter-reason',
  error: 'x-orderflow-error',
  queue: 'x-orderflow-queue',
  service: 'x-orderflow-service',
  failedAt: 'x-orderflow-failed-at',
  attempts: 'x-orderflow-attempts',
} as const;

/** `wrong-publisher`: sent by a broker user that does not own the message (publisher-check.ts); never retried. */
export type DeadLetterReason = 'permanent-error' | 'attempts-exhausted' | 'undeliverable' | 'wrong-publisher';

function baseProperties(msg: Message): Record<string, unknown> {
  const p = msg.properties as unknown as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries({
      persistent: true,
      contentType: p.contentType,
      contentEncoding: p.contentEncoding,
      messageId: p.messageId,
      type: p.type,
      correlationId: p.correlationId,
      appId: p.appId,
      timestamp: p.timestamp,
    }).filter(([, v]) => v !== undefined),
  );
}

function headersOf(msg: Message): Record<string, unknown> {
  return msg.properties.headers ?? {};
}

function rowId(msg: Message): string {
  const id: unknown = msg.properties.messageId;
  return typeof id === 'string' && isUuid(id) ? id : randomUUID();
}

export function retryRow(msg: Message, queue: string, attempt: number, error: Error, delayMs: number): OutboxRow {
  return {
    messageId: rowId(msg),
    exchange: EXCHANGES.retry,
    routingKey: queue,
    orderingKey: null,
    properties: {
      ...baseProperties(msg),
      headers: { ...headersOf(msg), [ATTEMPT_HEADER]: attempt + 1, 'x-orderflow-last-error': truncate(error.message) },
    },
    body: msg.content,
    delayMs,
  };
}

export function deadLetterRow(
  msg: Message,
  queue: string,
  service: string,
  attempt: number,
  reason: DeadLetterReason,
  error: Error,
): OutboxRow {
  return {
    messageId: rowId(msg),
    exchange: EXCHANGES.deadLetters,
    routingKey: queue,
    orderingKey: null,
    properties: {
      ...baseProperties(msg),
      headers: {
        ...headersOf(msg),
        [DEAD_LETTER_HEADERS.reason]: reason,
        [DEAD_LETTER_HEADERS.error]: truncate(`${error.name}: ${error.message}`),
        [DEAD_LETTER_HEADERS.queue]: queue,
        [DEAD_LETTER_HEADERS.service]: service,
        [DEAD_LETTER_HEADERS.failedAt]: new Date().toISOString(),
        [DEAD_LETTER_HEADERS.attempts]: attempt,
        'x-orderflow-dead-letter-queue': deadLetterQueueOf(queue),
      },
    },
    body: msg.content,
  };
}

const truncate = (s: string) => (s.length > 1000 ? `${s.slice(0, 997)}...` : s);
