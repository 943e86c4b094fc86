/**
 * Operators' view of dead letters: list, inspect and replay the messages in a service's dead-letter queues.
 *
 * Listing reads messages without taking them (they are returned to the DLQ when the look ends). Replay puts a
 * message back on its original queue through `orderflow.retry`, as a first attempt again, and removes it from the
 * DLQ only after the broker has confirmed the republish — so a replay interrupted at any point loses nothing (at
 * worst the message is in both places, and the consumer's inbox makes that harmless).
 */
import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import type { BrokerConnection } from '../broker/broker-connection.js';
import { ATTEMPT_HEADER } from '../consumer/incoming-message.js';
import { DEAD_LETTER_HEADERS } from '../consumer/failure.js';
import { EXCHANGES } from '../topology/topology.js';
import { NotFound } from '@orderflow/platform/domain-errors';

export interface DeadLetterQueueSummary {
  queue: string;
  deadLetterQueue: string;
  messages: number;
}

export interface DeadLetter {
  messageId?: string;
  type?: string;
  correlationId?: string;
  appId?: string;
  reason?: string;
  error?: string;
  failedAt?: string;
  attempts?: number;
  /** Set when the broker dead-lettered it (delivery limit reached, or rejected). */
  brokerDeath?: unknown;
  headers: Record<string, unknown>;
  body: unknown;
}

const MAX_SCAN = 10_000;

/** Which dead letters a listing shows; all of them without one. */
export interface DeadLetterFilter {
  /** Contained, case-insensitively, in the dead-letter reason or the error. */
  readonly reason?: string;
  /** Failed at or after (ISO 8601). */
  readonly since?: string;
  /** Failed before (ISO 8601). */
  readonly until?: string;
}

/** What a batch replay did with one of the messages it was given. */
export interface ReplayOutcome {
  readonly messageId: string;
  /** Skipped: no longer in the dead-letter queue (replayed or purged meanwhile); failed: it stays there. */
  readonly outcome: 'succeeded' | 'skipped' | 'failed';
  readonly detail?: string;
}

/** Whether a dead letter passes the filter; one whose failure time is unknown passes no time bound. */
export function matchesDeadLetterFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined) {
    const wanted = filter.reason.toLowerCase();
    const said = `${letter.reason ?? ''}\n${letter.error ?? ''}`.toLowerCase();
    if (!said.includes(wanted)) return false;
  }
  if (filter.since === undefined && filter.until === undefined) return true;
  const failedAt = letter.failedAt === undefined ? Number.NaN : Date.parse(letter.failedAt);
  if (Number.isNaN(failedAt)) return false;
  if (filter.since !== undefined && failedAt < Date.parse(filter.since)) return false;
  if (filter.until !== undefined && failedAt >= Date.parse(filter.until)) return false;
  return true;
}

const isFiltered = (filter: DeadLetterFilter) =>
  filter.reason !== undefined || filter.since !== undefined || filter.until !== undefined;

export class DeadLetters {
  constructor(
    private readonly broker: BrokerConnection,
    /** original queue → its DLQ, for the queues this service owns */
    private readonly queues: ReadonlyMap<string, string>,
  ) {}

  async summary(): Promise<DeadLetterQueueSummary[]> {
    return this.withChannel(false, async (channel) => {
      const result: DeadLetterQueueSummary[] = [];
      for (const [queue, dlq] of this.queues) {
        const { messageCount } = await channel.checkQueue(dlq);
        result.push({ queue, deadLetterQueue: dlq, messages: messageCount });
      }
      return result;
    });
  }

  /**
   * Up to `limit` dead letters from the head of the DLQ; with a filter, the first `limit` that pass it among at most
   * MAX_SCAN looked at.
   */
  async list(queue: string, limit = 50, filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const dlq = this.dlqOf(queue);
    const scanLimit = isFiltered(filter) ? MAX_SCAN : limit;
    return this.withChannel(false, async (channel) => {
      const seen: DeadLetter[] = [];
      for (let scanned = 0; seen.length < limit && scanned < scanLimit; scanned += 1) {
        const msg = await channel.get(dlq, { noAck: false });
        if (!msg) break;
        const letter = describe(msg);
        if (matchesDeadLetterFilter(letter, filter)) seen.push(letter);
      }
      // Everything looked at goes back, in order, when the channel's unacknowledged messages are requeued.
      channel.nackAll(true);
      return seen;
    });
  }

  /** Replays the messages with these ids, or (without ids) up to `limit` messages from the head of the DLQ. */
  async replay(queue: string, options: { messageIds?: readonly string[]; limit?: number } = {}): Promise<string[]> {
    const dlq = this.dlqOf(queue);
    const wanted = options.messageIds ? new Set(options.messageIds) : undefined;
    const limit = wanted ? wanted.size : (options.limit ?? 100);
    return this.withChannel(true, async (channel) => {
      const confirm = channel as ConfirmChannel;
      // A replay nobody receives would be acknowledged away from the DLQ and lost: watch for returns.
      const returned = new Set<string>();
      channel.on('return', (msg: { properties: { messageId?: string } }) =>
        returned.add(msg.properties.messageId ?? ''),
      );
      const replayed: string[] = [];
      let scanned = 0;
      while (replayed.length < limit && scanned < MAX_SCAN) {
        const msg = await channel.get(dlq, { noAck: false });
        if (!msg) break;
        scanned += 1;
        const id = msg.properties.messageId as string | undefined;
        if (wanted && !(id && wanted.has(id))) continue;
        await new Promise<void>((resolve, reject) => {
          confirm.publish(EXCHANGES.retry, queue, msg.content, replayProperties(msg, this.broker.user), (err) =>
            err ? reject(err as Error) : resolve(),
          );
        });
        // basic.return arrives before the confirm, so by now an unroutable replay is known.
        if (returned.has(id ?? ''))
          throw new Error(`replay of ${id ?? 'a message'} to ${queue} was unroutable; it stays in the DLQ`);
        channel.ack(msg);
        replayed.push(id ?? '(no message id)');
      }
      channel.nackAll(true);
      return replayed;
    });
  }

  /**
   * Replays each of these messages on its own and says what became of each: one that cannot be put back (unroutable,
   * refused by the broker) stays in the DLQ and is reported as failed while the others go on; one no longer in the
   * DLQ is skipped. Nothing is acknowledged away from the DLQ before the broker confirmed its republish.
   */
  async replayEach(queue: string, messageIds: readonly string[]): Promise<ReplayOutcome[]> {
    const dlq = this.dlqOf(queue);
    const outcomes = new Map<string, ReplayOutcome>();
    const pending = new Set(messageIds);
    try {
      await this.withChannel(true, async (channel) => {
        const confirm = channel as ConfirmChannel;
        const returned = new Set<string>();
        channel.on('return', (msg: { properties: { messageId?: string } }) =>
          returned.add(msg.properties.messageId ?? ''),
        );
        for (let scanned = 0; pending.size > 0 && scanned < MAX_SCAN; scanned += 1) {
          const msg = await channel.get(dlq, { noAck: false });
          if (!msg) break;
          const id = msg.properties.messageId as string | undefined;
          if (!id || !pending.has(id)) continue;
          pending.delete(id);
          try {
            await new Promise<void>((resolve, reject) => {
              confirm.publish(EXCHANGES.retry, queue, msg.content, replayProperties(msg, this.broker.user), (err) =>
                err ? reject(err as Error) : resolve(),
              );
            });
          } catch (err) {
            outcomes.set(id, {
              messageId: id,
              outcome: 'failed',
              detail: `the broker refused the replay: ${(err as Error).message}`,
            });
            continue;
          }
          if (returned.has(id)) {
            outcomes.set(id, {
              messageId: id,
              outcome: 'failed',
              detail: `unroutable to ${queue}; it stays in the DLQ`,
            });
            continue;
          }
          channel.ack(msg);
          outcomes.set(id, { messageId: id, outcome: 'succeeded' });
        }
        channel.nackAll(true);
      });
    } catch (err) {
      // The channel is gone: what was confirmed stands, and everything else stays in the DLQ, unreplayed.
      for (const id of messageIds) {
        if (outcomes.get(id)?.outcome !== 'succeeded') {
          outcomes.set(id, {
            messageId: id,
            outcome: 'failed',
            detail: `the replay stopped: ${(err as Error).message}`,
          });
          pending.delete(id);
        }
      }
    }
    return messageIds.map(
      (id) => outcomes.get(id) ?? { messageId: id, outcome: 'skipped', detail: 'no longer in the dead-letter queue' },
    );
  }

  private dlqOf(queue: string): string {
    const dlq = this.queues.get(queue);
    if (!dlq) throw new UnknownQueue(queue, [...this.queues.keys()]);
    return dlq;
  }

  private async withChannel<T>(confirm: boolean, work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = confirm ? await this.broker.confirmChannel() : await this.broker.channel();
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
}

export class UnknownQueue extends NotFound {
  constructor(
    readonly queue: string,
    readonly known: string[],
  ) {
    super(`unknown queue ${queue}; this service's queues are ${known.join(', ')}`);
  }
}

/** As the message was first sent, but from this service (`user_id`): only a queue's owner may put it back there. */
function replayProperties(msg: GetMessage, user: string) {
  const headers = { ...(msg.properties.headers ?? {}) };
  for (const name of [
    ...Object.values(DEAD_LETTER_HEADERS),
    'x-orderflow-last-error',
    'x-orderflow-dead-letter-queue',
    'x-death',
    'x-first-death-exchange',
    'x-first-death-queue',
    'x-first-death-reason',
    'x-last-death-exchange',
    'x-last-death-queue',
    'x-last-death-reason',
    'x-delivery-count',
  ]) {
    delete headers[name];
  }
  headers[ATTEMPT_HEADER] = 1;
  headers['x-orderflow-replayed-at'] = new Date().toISOString();
  const p = msg.properties;
  return {
    persistent: true,
    mandatory: true,
    contentType: p.contentType as string | undefined,
    contentEncoding: p.contentEncoding as string | undefined,
    messageId: p.messageId as string | undefined,
    type: p.type as string | undefined,
    correlationId: p.correlationId as string | undefined,
    appId: p.appId as string | undefined,
    timestamp: p.timestamp as number | undefined,
    userId: user,
    headers,
  };
}

function describe(msg: GetMessage): DeadLetter {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  let body: unknown;
  try {
    body = JSON.parse(msg.content.toString('utf8'));
  } catch {
    body = msg.content.toString('base64');
  }
  return {
    messageId: msg.properties.messageId as string | undefined,
    type: msg.properties.type as string | undefined,
    correlationId: msg.properties.correlationId as string | undefined,
    appId: msg.properties.appId as string | undefined,
    reason: headers[DEAD_LETTER_HEADERS.reason] as string | undefined,
    error: headers[DEAD_LETTER_HEADERS.error] as string | undefined,
    failedAt: headers[DEAD_LETTER_HEADERS.failedAt] as string | undefined,
    attempts: headers[DEAD_LETTER_HEADERS.attempts] as number | undefined,
    brokerDeath: headers['x-death'],
    headers,
    body,
  };
}
